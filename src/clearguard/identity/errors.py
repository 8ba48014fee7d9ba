"""Identity errors, each with a stable problem type."""

from __future__ import annotations

from clearguard.errors import ClearGuardError, Forbidden, InputError, Unauthenticated


class InvalidCredentials(Unauthenticated):
    """One answer for unknown user, wrong password and disabled account, so none can be told apart."""

    slug = "invalid-credentials"
    title = "Invalid credentials"


class InvalidMfa(Unauthenticated):
    slug = "invalid-mfa"
    title = "Second factor refused"


class InvalidToken(Unauthenticated):
    slug = "invalid-token"
    title = "Token invalid or expired"


class MfaAttemptsExhausted(InvalidToken):
    """The mfa_token has had its share of wrong codes; the next attempt is refused unchecked."""

    slug = "mfa-attempts-exhausted"
    title = "Too many wrong second factors for this login"


class TooManyAttempts(ClearGuardError):
    slug = "too-many-attempts"
    title = "Too many failed attempts"
    status = 429
    exit_code = 1

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts: retry in {retry_after} s", extra={"retry_after": retry_after})
        self.retry_after = retry_after


class Busy(ClearGuardError):
    """Password hashing capacity is used up; the client should retry shortly."""

    slug = "busy"
    title = "Service busy"
    status = 503
    exit_code = 1


class WeakPassword(InputError):
    slug = "weak-password"
    title = "Password refused"
    status = 422


class MfaStateError(Forbidden):
    """The MFA step does not fit the account's state (e.g. enrolling TOTP twice)."""

    slug = "mfa-state"
    title = "MFA step not allowed in the current state"
