"""The API walker's twin for pages: each page route declares exactly one permission, and the
routes served equal the permission table's rows (no page without a row, no row without a page)."""

from __future__ import annotations

from fastapi import FastAPI

from clearguard.api.walker import RouteInfo, walk
from clearguard.portal.permissions import PAGES


def page_routes(app: FastAPI) -> list[RouteInfo]:
    """The app's routes that are pages (everything outside the API's own prefixes)."""
    api = ("/api/", "/ledger/", "/health", "/openapi.json", "/docs", "/redoc")
    return [r for r in walk(app) if not (r.path.startswith(api) or r.path in ("/health", "/ledger"))]


def served(app: FastAPI) -> set[tuple[str, str, str]]:
    """(path, method, permission) of every page route; a route declaring 0 or 2+ permissions shows
    them joined by '|' (so the comparison with the table fails and names it)."""
    out: set[tuple[str, str, str]] = set()
    for route in page_routes(app):
        permission = "|".join(sorted(route.permissions))
        for method in route.methods:
            if method != "HEAD":
                out.add((route.path, method, permission))
    return out


def declared() -> set[tuple[str, str, str]]:
    return {(p.path, p.method, p.permission) for p in PAGES}
