"""Static files (htmx, the portal's CSS and scripts, the favicon) under /static/: public.

Served by a page route rather than a mounted StaticFiles app so that it, like every other route,
declares its permission (the walkers allow no route without one)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from clearguard.access.roles import Perm
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page

STATIC_DIR = (Path(__file__).parent.parent / "static").resolve()
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".ico": "image/x-icon"}

PAGES: tuple[Page, ...] = (Page("/static/{name:path}", "GET", "view", Perm.PUBLIC),)
router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/static/{name:path}", dependencies=[page_guard(Perm.PUBLIC)])
def static_file(name: str) -> Response:
    path = (STATIC_DIR / name).resolve()
    # Only files inside the static folder, and never its metadata files (dot files).
    # The dot-file test looks only below the static folder: the package itself may be installed under
    # a dotted folder (.venv, ~/.local).
    if (
        not path.is_relative_to(STATIC_DIR)
        or not path.is_file()
        or any(p.startswith(".") for p in path.relative_to(STATIC_DIR).parts)
    ):
        return Response("not found", status_code=404, media_type="text/plain")
    media = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, headers={"cache-control": "public, max-age=3600"})
