"""HTTP: the published log (tlog-tiles paths, read-only), receipt checks, and the tlog-witness
`add-checkpoint` endpoint.

The app sets `app.state.ledger` (LedgerService), `app.state.witness` (WitnessService) and a session
factory (`app.state.services.session_factory` or `app.state.session_factory`). Each route names its
permission in `openapi_extra["x-permission"]` for the access layer: the log and the witness endpoint
are public by design (the log is published for anyone to verify; a witness authenticates the
checkpoint's signature, not the caller), as is checking a receipt, which needs only public data.
Fetching a receipt by index needs `ledger:read`: it is how an auditor follows an entry."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from clearguard.access.roles import Perm
from clearguard.api.security import PermissionRoute, require
from clearguard.ledger.errors import LedgerError, NotIntegrated, TileError
from clearguard.ledger.receipt import receipt_from_json
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tiles import parse_tile_path
from clearguard.ledger.witness import WitnessError
from clearguard.ledger.witness_service import WitnessService

# Tiles, checkpoint and key are public by design: the log holds only salted commitments, and anyone
# with the verifier key must be able to check it. Receipts by index need ledger:read.
router = APIRouter(prefix="/ledger", tags=["ledger"], route_class=PermissionRoute)

PUBLIC = [require(Perm.PUBLIC)]
_TEXT = "text/plain; charset=utf-8"
# Tiles are immutable once full; partial tiles and the checkpoint change as the log grows.
_IMMUTABLE = {"Cache-Control": "public, max-age=604800, immutable"}
_FRESH = {"Cache-Control": "no-cache"}


def _ledger(request: Request) -> LedgerService:
    ledger = getattr(request.app.state, "ledger", None)
    if not isinstance(ledger, LedgerService):
        raise RuntimeError("app.state.ledger is not set")
    return ledger


def _witness(request: Request) -> WitnessService:
    witness = getattr(request.app.state, "witness", None)
    if not isinstance(witness, WitnessService):
        raise RuntimeError("app.state.witness is not set")
    return witness


def _factory(request: Request) -> sessionmaker[Session]:
    services = getattr(request.app.state, "services", None)
    factory = getattr(services, "session_factory", None) or getattr(request.app.state, "session_factory", None)
    if not isinstance(factory, sessionmaker):
        raise RuntimeError("no session factory on app.state")
    return factory


def _problem(status: int, title: str, detail: str) -> Response:
    body = {
        "type": "urn:clearguard:problem:" + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    return Response(json.dumps(body), status_code=status, media_type="application/problem+json")


@router.get("/checkpoint", dependencies=PUBLIC, response_class=Response)
def checkpoint(request: Request) -> Response:
    with _factory(request)() as session:
        note = _ledger(request).latest_note(session)
    if note is None:
        return Response("no checkpoint yet\n", status_code=404, media_type=_TEXT)
    return Response(note, media_type=_TEXT, headers=_FRESH)


@router.get("/key", dependencies=PUBLIC, response_class=Response)
def key(request: Request) -> Response:
    return Response(_ledger(request).vkey() + "\n", media_type=_TEXT)


@router.get("/tile/{path:path}", dependencies=PUBLIC, response_class=Response)
def tile(path: str, request: Request) -> Response:
    try:
        ref = parse_tile_path("tile/" + path)
    except TileError:
        # A path naming no tile is a 404 to tlog-tiles clients; the body says which rule it breaks.
        return _problem(
            404,
            "Not a tile path",
            "path: not a C2SP tlog-tiles path (tile/<level>/<index in groups of 3 digits>[.p/<width>], "
            "level 0-63, index below 2**64, width 1-255)",
        )
    with _factory(request)() as session:
        data = _ledger(request).read_tile(session, ref)
    if data is None:
        return Response("no such tile\n", status_code=404, media_type=_TEXT)
    headers = _IMMUTABLE if ref.width == 256 else _FRESH
    return Response(data, media_type="application/octet-stream", headers=headers)


@router.get("/receipts/{index}", dependencies=[require(Perm.LEDGER_READ)])
def get_receipt(index: int, request: Request) -> Any:
    """The receipt of an integrated entry: index, entry, signed checkpoint, inclusion proof."""
    if index < 0:
        return _problem(404, "Not found", "no such entry")
    try:
        with _factory(request)() as session:
            return _ledger(request).receipt(session, index).to_json()
    except NotIntegrated as exc:
        return _problem(404, "Not found", str(exc))


@router.post("/receipts/verify", dependencies=PUBLIC)
def verify_receipt(body: dict[str, Any], request: Request) -> Any:
    """Checks a receipt against this log's key: signature, then inclusion proof."""
    try:
        receipt = receipt_from_json(body)
        signed = _ledger(request).check_receipt(receipt)
    except LedgerError as exc:
        return _problem(422, "Receipt does not verify", str(exc))
    return {
        "valid": True,
        "index": receipt.index,
        "tree_size": signed.checkpoint.size,
        "origin": signed.checkpoint.origin,
    }


@router.post("/witness/add-checkpoint", dependencies=PUBLIC, response_class=Response)
async def add_checkpoint(request: Request) -> Response:
    """C2SP tlog-witness add-checkpoint: 200 with cosignature lines; 400, 403, 404, 409 (with the
    latest size as text/x.tlog.size), 422 as the spec says."""
    body = await request.body()
    if len(body) > 64 * 1024:
        return Response("request too large\n", status_code=400, media_type=_TEXT)
    witness = _witness(request)
    factory = _factory(request)

    def locked_check_and_store() -> str:
        # One transaction; a refused fork is alerted in a second one (witness_service.handle).
        return witness.handle(factory, body)

    try:
        # Off the event loop: the check-and-store holds a database lock.
        lines = await run_in_threadpool(locked_check_and_store)
    except WitnessError as exc:
        if exc.latest_size is not None:  # the spec's 409: the witness's size as text/x.tlog.size
            content_type, text = exc.body()
            return Response(text, status_code=exc.http_status, media_type=content_type)
        return _problem(exc.http_status, "Witness refused the checkpoint", exc.detail)
    return Response(lines, media_type=_TEXT)
