"""The permission convention: every route depends on `require(PERMISSION)`.

`require` authenticates the bearer token (except for `Perm.PUBLIC`), checks the role holds the
permission (403 otherwise), enforces step-up for the permissions that need it, and returns the
Principal. The dependency carries its permission as a marker, which `PermissionRoute` copies into
the route's OpenAPI operation as `x-permission` and `clearguard.api.walker` reads to prove that no
route is left without one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clearguard.access.policy import require_recent_mfa
from clearguard.access.principal import Principal
from clearguard.access.roles import STEP_UP_PERMISSIONS, Perm, holds, known_permissions
from clearguard.errors import Forbidden
from clearguard.identity import IdentityService, InvalidToken
from clearguard.training import TrainingService

PERMISSION_ATTR = "__clearguard_permission__"
_bearer = HTTPBearer(auto_error=False, description="access token from /api/v1/auth/mfa/*")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def identity_of(request: Request) -> IdentityService:
    service = getattr(request.app.state, "identity", None)
    if not isinstance(service, IdentityService):
        raise RuntimeError("app.state.identity is not set: call clearguard.api.setup.install_api")
    return service


def source_of(request: Request) -> str:
    """Client address for throttling (uvicorn --proxy-headers sets it from a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def _authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise InvalidToken("a bearer access token is required")
    return identity_of(request).authenticate(credentials.credentials)


def authorize(request: Request, principal: Principal, permission: str) -> None:
    """The one decision whether an authenticated principal may use a permission now: the API's
    `require` and the portal's page guard both call it, so pages and routes cannot drift apart."""
    if not holds(principal.role, permission):
        raise Forbidden(f"{principal.role.value} lacks permission {permission}")
    # Staff training (issue 18): a privileged role without current data-protection training may
    # sign in and manage its own authenticators (SELF, PUBLIC) but nothing else. Asked of the
    # database each time, so a completion recorded through any worker opens access at once.
    training: TrainingService | None = getattr(request.app.state, "training", None)
    if training is not None:
        training.gate(principal, permission, identity_of(request).clock.now())
    if permission in STEP_UP_PERMISSIONS:
        identity = identity_of(request)
        require_recent_mfa(principal, identity.clock.now(), window_seconds=identity.settings.auth_step_up_seconds)


def require(permission: str) -> Any:
    """A FastAPI dependency: `principal: Annotated[Principal, require(Perm.X)]`, or in `dependencies=`."""
    if permission not in known_permissions():
        raise ValueError(f"unknown permission {permission!r}: add it to clearguard.access.roles.Perm")

    if permission == Perm.PUBLIC:

        def public() -> None:
            return None

        setattr(public, PERMISSION_ATTR, permission)
        return Depends(public)

    # async on purpose: the token lookup is one indexed query, cheaper run inline than handed to
    # the thread pool (the hop and its wake-up cost more than the query; measured in bench/api.py).
    async def dependency(request: Request, credentials: BearerCredentials) -> Principal:
        principal = _authenticate(request, credentials)
        limits = getattr(request.app.state, "edge_limits", None)
        if limits is not None:  # clearguard.detection.ratelimit.EdgeLimits: 429 over the principal's rate
            limits.refuse_principal(principal.username)
        authorize(request, principal, permission)
        request.state.principal = principal
        return principal

    dependency.__name__ = "require_" + permission.replace(":", "_")
    setattr(dependency, PERMISSION_ATTR, permission)
    return Depends(dependency)


def permissions_of(dependant: Any) -> set[str]:
    """Permissions declared anywhere in a route's dependency tree."""
    found: set[str] = set()
    stack = [dependant]
    while stack:
        node = stack.pop()
        call: Callable[..., Any] | None = getattr(node, "call", None)
        marker = getattr(call, PERMISSION_ATTR, None) if call is not None else None
        if isinstance(marker, str):
            found.add(marker)
        stack.extend(getattr(node, "dependencies", []))
    return found


class PermissionRoute(APIRoute):
    """Records the route's declared permission in its OpenAPI operation as `x-permission`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        found = permissions_of(self.dependant)
        if found:
            extra = dict(self.openapi_extra or {})
            extra["x-permission"] = sorted(found)[0] if len(found) == 1 else sorted(found)
            self.openapi_extra = extra
