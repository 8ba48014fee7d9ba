"""Access errors with stable problem types."""

from __future__ import annotations

from clearguard.errors import Forbidden, Unauthenticated


class BreakGlassRequired(Forbidden):
    """An officer asked for another office's declaration without a written justification."""

    slug = "break-glass-required"
    title = "Another office's record: a written justification is required"


class StepUpRequired(Unauthenticated):
    """RFC 9470 in spirit: the session is valid but its MFA proof is too old for this action. The
    policy decides it (require_recent_mfa), so the error is access's; identity answers it with a
    step-up ceremony."""

    slug = "step-up-required"
    title = "Recent multi-factor authentication required"
