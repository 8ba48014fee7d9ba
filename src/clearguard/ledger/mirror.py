"""Mirroring partners' logs (issue 15): each administration keeps a verified copy of its partners'
published tiles under var/mirrors/<origin>/, in the C2SP tlog-tiles layout, so that a log survives
the loss of its own servers and `clearguard ledger verify --tiles DIR --key VKEY` checks the copy
offline.

A run is incremental: it fetches the partner's checkpoint, then only the entry bundles from the
mirrored size on and the tiles of the new right edge. Before anything is adopted:
- the checkpoint verifies with the partner's log key;
- it is cosigned by our own witness (or one we trust), or it is the checkpoint our witness last
  cosigned for that log (which it checked for consistency when it cosigned it);
- the entries, hashed onto the right edge of the mirrored tree, give the checkpoint's root (so the
  new tree extends the mirrored one: consistency by construction), and every hash tile served is
  the one those entries give.
A checkpoint signed by the partner's key that disagrees with what we mirrored or cosigned, or tiles
that do not give its root, are refused, raise a witness alert (alerts.py), and change nothing."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.db import utcnow
from clearguard.ledger.alerts import MIRROR_REFUSED, AlertEvidence, WitnessEvents, record_alert
from clearguard.ledger.checkpoint import Checkpoint, open_checkpoint
from clearguard.ledger.cosignature import CosignatureVerifier
from clearguard.ledger.errors import NoteError, TileError
from clearguard.ledger.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash
from clearguard.ledger.note import Ed25519Verifier, Verifier, ed25519_verifier, open_note
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tables import MirrorRow, WitnessedLog
from clearguard.ledger.tiles import (
    MAX_ENTRY_SIZE,
    TILE_WIDTH,
    TileBuilder,
    decode_bundle,
    entries_path,
    level_count,
    partial_width,
    root_from_edges,
    split_hashes,
    tile_path,
    tile_width,
)
from clearguard.ledger.tiles_dir import write_public

MAX_CHECKPOINT_BYTES: Final = 64 * 1024
MAX_TILE_BYTES: Final = TILE_WIDTH * HASH_SIZE
MAX_BUNDLE_BYTES: Final = TILE_WIDTH * (2 + MAX_ENTRY_SIZE)
_log = logging.getLogger(__name__)


def mirror_dir(root: Path, origin: str) -> Path:
    """The folder of one origin: percent-escaped, so an origin is one path component ('/' and '.'
    escaped, never '..' or an absolute path)."""
    name = quote(origin, safe="").replace(".", "%2E")
    if len(name) > 200:  # a file name holds 255 bytes: keep a readable prefix and a digest of the rest
        name = name[:120] + "~" + hashlib.sha256(origin.encode()).hexdigest()
    return root / name


@dataclass
class MirrorResult:
    name: str
    origin: str
    ok: bool
    adopted: bool
    size: int
    previous_size: int
    detail: str
    requests: int = 0
    bytes: int = 0
    alert: str | None = None
    cosigned_by: str | None = None
    directory: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "ok": self.ok,
            "adopted": self.adopted,
            "size": self.size,
            "previous_size": self.previous_size,
            "detail": self.detail,
            "requests": self.requests,
            "bytes": self.bytes,
            "alert": self.alert,
            "cosigned_by": self.cosigned_by,
            "directory": self.directory,
        }


class _Unavailable(Exception):
    """The partner did not serve what we asked (network, status, size): retried next run, no alert."""


class _Inconsistent(Exception):
    """What the partner serves disagrees with its own checkpoint or with what we hold: an alert."""


@dataclass
class _Fetcher:
    client: httpx.Client
    base: str
    requests: int = 0
    received: int = 0

    def get(self, relative: str, limit: int) -> bytes:
        url = self.base.rstrip("/") + "/" + relative
        self.requests += 1
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise _Unavailable(f"{relative}: HTTP {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise _Unavailable(f"{relative}: more than {limit} bytes")
        except httpx.HTTPError as exc:
            raise _Unavailable(f"{relative}: {type(exc).__name__}: {exc}") from exc
        self.received += len(data)
        return bytes(data)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    name: str
    origin: str
    url: str
    size: int
    root: bytes | None
    note: str | None
    vkey: str | None
    witnessed_size: int
    witnessed_root: bytes | None
    witnessed_note: str | None


@dataclass
class _Plan:
    files: dict[str, bytes] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)


class MirrorService:
    def __init__(
        self,
        ledger: LedgerService,
        witness_key: CosignatureVerifier,
        directory: Path,
        *,
        events: WitnessEvents | None = None,
        trusted: Sequence[CosignatureVerifier] = (),
        cosign: Callable[[str], str] | None = None,
    ) -> None:
        """`witness_key`: our own witness's verifier key; `trusted`: other witnesses whose
        cosignature we accept (never the partner's own witness: it would vouch for itself).
        `cosign(body) -> signature line`: our witness, to cosign a checkpoint it had already
        cosigned when we adopt it from our witness record rather than from the partner."""
        self.ledger = ledger
        self.directory = directory
        self.events = events
        self.trusted = [witness_key, *trusted]
        self._cosign = cosign

    def partners(self, session: Session) -> list[str]:
        return list(session.execute(select(MirrorRow.origin).order_by(MirrorRow.origin)).scalars())

    def mirror_all(self, factory: sessionmaker[Session], client: httpx.Client) -> list[MirrorResult]:
        with factory() as session:
            origins = self.partners(session)
        return [self.mirror(factory, client, origin) for origin in origins]

    def mirror(self, factory: sessionmaker[Session], client: httpx.Client, origin: str) -> MirrorResult:
        snap = self._snapshot(factory, origin)
        path = mirror_dir(self.directory, origin)
        result = MirrorResult(snap.name, origin, False, False, snap.size, snap.size, "", directory=str(path))
        if snap.vkey is None:
            result.detail = "no log key for this origin: register the partner again"
            return result
        fetch = _Fetcher(client, snap.url)
        try:
            self._run(factory, fetch, snap, path, result)
        except _Unavailable as exc:
            result.detail = f"partner unavailable: {exc}"
            _log.warning("mirror of %s: %s", origin, result.detail)
        finally:
            result.requests, result.bytes = fetch.requests, fetch.received
        return result

    def _snapshot(self, factory: sessionmaker[Session], origin: str) -> _Snapshot:
        with factory() as session:
            row = session.get(MirrorRow, origin)
            if row is None:
                raise NoteError(f"origin {origin!r} is not a mirrored log")
            log = session.get(WitnessedLog, origin)
            return _Snapshot(
                row.name,
                origin,
                row.url,
                int(row.size),
                row.root,
                row.note,
                None if log is None else log.vkey,
                0 if log is None else int(log.size),
                None if log is None else log.root,
                None if log is None else log.note,
            )

    def _run(
        self, factory: sessionmaker[Session], fetch: _Fetcher, snap: _Snapshot, path: Path, result: MirrorResult
    ) -> None:
        assert snap.vkey is not None
        log_key = ed25519_verifier(snap.vkey)
        raw = fetch.get("checkpoint", MAX_CHECKPOINT_BYTES)
        try:
            note = raw.decode("utf-8")
            published = open_checkpoint(note, [log_key], snap.origin).checkpoint
        except (UnicodeDecodeError, NoteError) as exc:
            # Not signed by the partner's key: no evidence against the partner (anyone on the path
            # could send it), so no alert; nothing adopted.
            result.detail = f"checkpoint refused: does not verify with the log's key ({exc})"
            return
        problem = self._disagreement(snap, published)
        if problem is not None:
            self._alert(factory, snap, published, note, problem, result)
            return
        if published.size == snap.size:
            result.ok, result.detail = True, f"up to date at size {snap.size}"
            return
        cosigner = _cosigned_by(note, log_key, self.trusted)
        target, target_note = published, note
        if cosigner is None:
            if snap.witnessed_note is None or snap.witnessed_size <= snap.size:
                result.ok = True
                result.detail = f"size {published.size} is not yet cosigned by a witness we trust; nothing adopted"
                return
            # The checkpoint our witness last cosigned: it checked its consistency when it cosigned.
            target = open_checkpoint(snap.witnessed_note, [log_key], snap.origin).checkpoint
            target_note = snap.witnessed_note
            if self._cosign is not None:
                target_note = target_note + self._cosign(target.body())
            cosigner = self.trusted[0].name
        try:
            plan = self._verify(fetch, snap, path, target)
        except _Inconsistent as exc:
            self._alert(factory, snap, target, target_note, str(exc), result)
            return
        for relative, data in plan.files.items():
            write_public(path / relative, data)
        with factory() as session, session.begin():
            row = session.get(MirrorRow, snap.origin, with_for_update=True)
            if row is None or int(row.size) != snap.size:
                raise _Unavailable("another mirror run adopted a checkpoint meanwhile; run again")
            row.size, row.root, row.note, row.updated_at = target.size, target.root, target_note, utcnow()
        write_public(path / "checkpoint", target_note.encode())
        for relative in plan.superseded:
            if relative not in plan.files:
                with contextlib.suppress(FileNotFoundError):
                    (path / relative).unlink()
        result.ok, result.adopted, result.size, result.cosigned_by = True, True, target.size, cosigner
        result.detail = f"adopted size {target.size} (was {snap.size}), cosigned by {cosigner}"

    @staticmethod
    def _disagreement(snap: _Snapshot, published: Checkpoint) -> str | None:
        """What a checkpoint signed by the log's key proves against what we hold, before any tile."""
        if published.size < snap.size:
            return f"the log's checkpoint went back from size {snap.size} to {published.size}"
        if snap.size and published.size == snap.size and published.root != snap.root:
            return f"two checkpoints of size {snap.size} with different roots (mirrored and published)"
        if snap.witnessed_size and published.size == snap.witnessed_size and published.root != snap.witnessed_root:
            return f"two checkpoints of size {snap.witnessed_size} with different roots (cosigned and published)"
        return None

    def _alert(
        self,
        factory: sessionmaker[Session],
        snap: _Snapshot,
        seen: Checkpoint,
        seen_note: str,
        detail: str,
        result: MirrorResult,
    ) -> None:
        result.detail = f"refused: {detail}"
        evidence = AlertEvidence(snap.origin, MIRROR_REFUSED, detail, snap.size, snap.root, snap.note, seen, seen_note)
        with factory() as session, session.begin():
            row, _ = record_alert(session, self.ledger, evidence, self.events)
            result.alert = row.alert_id

    def _verify(self, fetch: _Fetcher, snap: _Snapshot, path: Path, target: Checkpoint) -> _Plan:
        plan = _Plan()
        edges = _local_edges(path, snap.size, snap.root)
        if edges is not None:  # incremental: on the right edge of the mirrored tree
            builder, start, check_at = TileBuilder(snap.size, edges), snap.size, None
            plan.superseded = _edge_paths(snap.size)
        else:  # nothing usable on disk: fetch everything, and check the mirrored root on the way
            if snap.size:
                _log.warning("mirror of %s: local tiles missing or damaged; fetching the whole tree", snap.origin)
            builder, start, check_at = TileBuilder(), 0, snap.size or None
        size = target.size
        changed: dict[tuple[int, int], bytes] = {}
        first = start // TILE_WIDTH
        for index in range(first, (size + TILE_WIDTH - 1) // TILE_WIDTH):
            width = tile_width(size, 0, index)
            relative = entries_path(index, width)
            data = fetch.get(relative, MAX_BUNDLE_BYTES)
            try:
                entries = decode_bundle(data)
            except TileError as exc:
                raise _Inconsistent(f"{relative}: {exc}") from exc
            if len(entries) != width:
                raise _Inconsistent(f"{relative}: holds {len(entries)} entries, expected {width}")
            hashes = [leaf_hash(e) for e in entries]
            skip = start - index * TILE_WIDTH if index == first else 0
            if skip and edges is not None and hashes[:skip] != edges[0]:
                raise _Inconsistent(f"{relative}: entries below size {snap.size} differ from the mirrored ones")
            fresh = hashes[skip:]
            if check_at is not None and builder.size < check_at <= builder.size + len(fresh):
                cut = check_at - builder.size
                changed.update(builder.extend(fresh[:cut]))
                if builder.root() != snap.root:
                    raise _Inconsistent(f"the served tree is not consistent with the mirrored size {snap.size}")
                fresh = fresh[cut:]
            changed.update(builder.extend(fresh))
            plan.files[relative] = data
        if builder.size != size or builder.root() != target.root:
            raise _Inconsistent(f"the served entries do not hash to the checkpoint's root at size {size}")
        for (level, index), data in sorted(changed.items()):
            relative = tile_path(level, index, len(data) // HASH_SIZE)
            if fetch.get(relative, MAX_TILE_BYTES) != data:
                raise _Inconsistent(f"{relative}: the served tile is not the hashes of the served entries")
            plan.files[relative] = data
        return plan


def _cosigned_by(note: str, log_key: Ed25519Verifier, trusted: Sequence[CosignatureVerifier]) -> str | None:
    """The first trusted witness whose cosignature on the note verifies. Each is checked on its own:
    a bad line by one witness must not hide a good one by another."""
    for witness in trusted:
        verifiers: list[Verifier] = [log_key, witness]
        try:
            opened = open_note(note, verifiers)
        except NoteError:
            continue
        if any(sig.name == witness.name and sig.key_id == witness.key_id for sig in opened.verified):
            return witness.name
    return None


def _edge_paths(size: int) -> list[str]:
    """The partial tiles and bundle of a tree's right edge: replaced when the tree grows."""
    paths = []
    if size % TILE_WIDTH:
        paths.append(entries_path(size // TILE_WIDTH, size % TILE_WIDTH))
    level = 0
    while level_count(size, level) > 0:
        width = partial_width(size, level)
        if width:
            paths.append(tile_path(level, level_count(size, level) // TILE_WIDTH, width))
        level += 1
    return paths


def _local_edges(path: Path, size: int, root: bytes | None) -> list[list[bytes]] | None:
    """The right edge of the mirrored tree, read back from its partial tiles and checked against the
    adopted root (the database's, not the folder's); None when missing or altered."""
    if size == 0:
        return []
    if root is None:
        return None
    edges: list[list[bytes]] = []
    level = 0
    while level_count(size, level) > 0:
        width = partial_width(size, level)
        hashes: list[bytes] = []
        if width:
            try:
                hashes = split_hashes(
                    (path / tile_path(level, level_count(size, level) // TILE_WIDTH, width)).read_bytes()
                )
            except (OSError, TileError):
                return None
            if len(hashes) != width:
                return None
        edges.append(hashes)
        level += 1
    if (root_from_edges(edges) if edges else EMPTY_ROOT) != root:
        return None
    return edges
