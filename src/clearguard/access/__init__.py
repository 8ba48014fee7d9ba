"""Access control, as pure policy: roles and permissions, principals, mandates, policy decisions and
field redaction. Other capabilities use what is exported here; access imports none of them."""

from clearguard.access.errors import BreakGlassRequired, StepUpRequired
from clearguard.access.mandates import check_eori, current_mandates, grant_mandate
from clearguard.access.policy import (
    Action,
    ListScope,
    RecordRef,
    View,
    authorize_action,
    authorize_lodge,
    authorize_read,
    list_scope,
    redact_document,
    require_recent_mfa,
)
from clearguard.access.principal import MandateGrant, Principal
from clearguard.access.roles import STEP_UP_PERMISSIONS, Perm, Role, holds, known_permissions

__all__ = [
    "STEP_UP_PERMISSIONS",
    "Action",
    "BreakGlassRequired",
    "ListScope",
    "MandateGrant",
    "Perm",
    "Principal",
    "RecordRef",
    "Role",
    "StepUpRequired",
    "View",
    "authorize_action",
    "authorize_lodge",
    "authorize_read",
    "check_eori",
    "current_mandates",
    "grant_mandate",
    "holds",
    "known_permissions",
    "list_scope",
    "redact_document",
    "require_recent_mfa",
]
