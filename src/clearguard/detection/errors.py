"""The detection error tree.

DetectionError                base (500 unless a subclass says otherwise)
├── DetectionInputError       a malformed event file, rule or argument (400, exit 2)
└── RequestBlocked            a request refused at the API edge (rate limit, injection, size)
"""

from __future__ import annotations

from clearguard.errors import ClearGuardError


class DetectionError(ClearGuardError):
    slug = "detection-error"
    title = "Detection failed"
    status = 500
    exit_code = 1


class DetectionInputError(DetectionError):
    slug = "detection-input"
    title = "Detection input is not valid"
    status = 400
    exit_code = 2


class RequestBlocked(DetectionError):
    slug = "request-blocked"
    title = "Request blocked"
    status = 400
    exit_code = 1
