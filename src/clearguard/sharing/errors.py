"""The sharing error tree.

    SharingError                  base (500 unless a subclass says otherwise)
    ├── SharingInputError         a malformed identity file, agreement or argument (400, exit 2)
    ├── AgreementError            no agreement in force covers what was asked (403, exit 1)
    ├── PackageRefused            a package that fails a trust decision: its `reason` slug names which
    │                             (bad-signature, wrong-recipient, expired, replayed, outside-agreement,
    │                             unknown-field, ledger-proof, unknown-sender, malformed) (422, exit 1)
    └── SdJwtError                an SD-JWT that cannot be parsed or does not verify (422, exit 1)
"""

from __future__ import annotations

from clearguard.errors import ClearGuardError


class SharingError(ClearGuardError):
    slug = "sharing-error"
    title = "Sharing failed"
    status = 500
    exit_code = 1


class SharingInputError(SharingError):
    slug = "sharing-input"
    title = "Sharing input is not valid"
    status = 400
    exit_code = 2


class AgreementError(SharingError):
    slug = "no-agreement"
    title = "No agreement in force allows this"
    status = 403
    exit_code = 1


class PackageRefused(SharingError):
    slug = "package-refused"
    title = "Package refused"
    status = 422
    exit_code = 1

    def __init__(self, reason: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, field=field, extra={"reason": reason})
        self.reason = reason


class SdJwtError(SharingError):
    slug = "sd-jwt-invalid"
    title = "SD-JWT is not valid"
    status = 422
    exit_code = 1
