"""Where a request came from (address and user agent), set by the API edge for the length of a
request and read when its activity is recorded: the audit trail keeps the source, not the agent."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

USER_AGENT_LIMIT = 256


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    source_ip: str | None
    user_agent: str | None


_origin: ContextVar[RequestOrigin | None] = ContextVar("clearguard_request_origin", default=None)


def set_origin(source_ip: str | None, user_agent: str | None) -> object:
    """Sets the origin for the current request; returns the token that `reset_origin` takes."""
    agent = user_agent[:USER_AGENT_LIMIT] if user_agent else None
    return _origin.set(RequestOrigin(source_ip, agent))


def reset_origin(token: object) -> None:
    _origin.reset(token)  # type: ignore[arg-type]


def current_origin() -> RequestOrigin | None:
    return _origin.get()
