"""The error tree.

Every error ClearGuard raises on purpose derives from ClearGuardError. Each class carries a stable
problem type (RFC 9457 `type`), an HTTP status and a CLI exit code, so the API, the CLI and the logs
describe a failure the same way. Messages are one line, name the field and the rule, and never carry
a stack trace or secret material.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "urn:clearguard:problem:"


class ClearGuardError(Exception):
    """Base of every deliberate error."""

    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, detail: str, *, field: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra: dict[str, Any] = dict(extra or {})

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """RFC 9457 problem details; `extra` adds extension members."""
        problem: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            problem["field"] = self.field
        if instance is not None:
            problem["instance"] = instance
        problem.update(self.extra)
        return problem

    def __str__(self) -> str:
        return self.detail


class InputError(ClearGuardError):
    """Input that cannot be read at all: not JSON, not UTF-8, too large, truncated."""

    slug = "unreadable-input"
    title = "Input cannot be read"
    status = 400
    exit_code = 2


class ValidationFailed(ClearGuardError):
    """Input was read but breaks one or more rules; carries every finding at once."""

    slug = "validation-failed"
    title = "Declaration fails validation"
    status = 422
    exit_code = 1


class NotFound(ClearGuardError):
    slug = "not-found"
    title = "Not found"
    status = 404
    exit_code = 1


class Gone(ClearGuardError):
    """The record existed and was disposed of under a retention policy: its values are gone."""

    slug = "disposed"
    title = "Disposed of under a retention policy"
    status = 410
    exit_code = 1


class Conflict(ClearGuardError):
    slug = "conflict"
    title = "Conflict with current state"
    status = 409
    exit_code = 1


class IllegalTransition(Conflict):
    slug = "illegal-transition"
    title = "Transition not allowed from the current status"


class Unauthenticated(ClearGuardError):
    slug = "unauthenticated"
    title = "Authentication required"
    status = 401
    exit_code = 1


class Forbidden(ClearGuardError):
    slug = "forbidden"
    title = "Forbidden"
    status = 403
    exit_code = 1


class ConfigurationError(ClearGuardError):
    """The service's own configuration is unusable (placeholder secret, readable key file, ...)."""

    slug = "configuration-error"
    title = "Configuration error"
    status = 500
    exit_code = 2
