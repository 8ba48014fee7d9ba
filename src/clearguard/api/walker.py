"""Walks an application's routes and names those that declare no permission (deny by default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing

from clearguard.access.roles import Perm
from clearguard.api.security import permissions_of

# FastAPI's own documentation routes carry no data and take no dependencies.
DOC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


@dataclass(frozen=True, slots=True)
class RouteInfo:
    path: str
    methods: tuple[str, ...]
    permissions: frozenset[str]


def _flat_routes(app: FastAPI) -> list[Any]:
    """Every route as served. FastAPI >= 0.120 keeps included routers lazily (`_IncludedRouter`),
    with router-level dependencies merged only in the effective route; iterate those."""
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    return list(iterate(app.routes)) if iterate is not None else list(app.routes)


def walk(app: FastAPI) -> list[RouteInfo]:
    out: list[RouteInfo] = []
    for route in _flat_routes(app):
        path = str(getattr(route, "path", "") or "")
        methods = tuple(sorted(getattr(route, "methods", None) or ()))
        dependant = getattr(route, "dependant", None)
        # Static files, sub-apps and plain Starlette routes have no dependant: no permission.
        permissions = frozenset(permissions_of(dependant)) if dependant is not None else frozenset()
        out.append(RouteInfo(path, methods, permissions))
    return out


def undeclared(app: FastAPI, *, exempt: frozenset[str] = frozenset()) -> list[RouteInfo]:
    """Routes with no permission, or with more than one (ambiguous), except the docs and `exempt`."""
    return [r for r in walk(app) if r.path not in DOC_PATHS | exempt and len(r.permissions) != 1]


def public_routes(app: FastAPI) -> list[RouteInfo]:
    return [r for r in walk(app) if Perm.PUBLIC in r.permissions]
