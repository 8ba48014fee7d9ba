"""Tiles directories on disk: publishing the log as C2SP tlog-tiles, and verifying one offline with
nothing but the log's verifier key (ours or another tlog-tiles implementation's).

Offline verification streams level by level: the entry bundles are hashed and compared with the
level-0 tiles, the root of each full tile is compared with the next level's tile, and the right
edge of every level gives the tree hash, which must be the signed checkpoint's root. Memory stays
at one level of tile roots (n / 256 hashes)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session

from clearguard.ledger import store
from clearguard.ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from clearguard.ledger.errors import LedgerError, NoteError, TileError
from clearguard.ledger.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, perfect_root
from clearguard.ledger.note import Verifier, ed25519_verifier, split_note
from clearguard.ledger.tiles import (
    TILE_WIDTH,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    entries_path,
    level_count,
    root_from_edges,
    split_hashes,
    tile_path,
    tile_width,
)
from clearguard.ledger.verification import Progress


def _write(path: Path, data: bytes) -> None:
    """Write then rename, so a reader never sees half a tile. The tiles are public by design (a
    static host serves them, often as another user), so they are 0644 and their folders 0755 even
    though the CLI runs with umask 077 for everything else it writes."""
    _public_dirs(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_public(path: Path, data: bytes) -> None:
    """Writes one file of a tiles directory as `publish` does (atomic, public): for mirrors."""
    _write(path, data)


def _public_dirs(folder: Path) -> None:
    if folder.is_dir():
        return
    _public_dirs(folder.parent)
    folder.mkdir(exist_ok=True)
    os.chmod(folder, 0o755)  # noqa: S103 (public tiles, see _write)  # nosec B103


def publish(session: Session, directory: Path, progress: Progress | None = None) -> Checkpoint | None:
    """Writes the latest signed tree: tiles, entry bundles, then the checkpoint last, so that a
    client following the checkpoint finds every tile it names. Returns the checkpoint published."""
    row = store.latest_checkpoint(session)
    if row is None:
        return None
    size = row.size
    integrated, _ = store.tree_state(session)
    if integrated != size:
        raise LedgerError("ledger: the latest checkpoint is not the integrated tree; integrate first")
    total = (size + TILE_WIDTH - 1) // TILE_WIDTH
    for level, index, data in store.iter_tiles(session):
        width = tile_width(size, level, index)
        if width:
            _write(directory / tile_path(level, index, width), data[: width * HASH_SIZE])
    for done, ref in enumerate(bundles_for_size(size), start=1):
        start = ref.index * TILE_WIDTH
        rows = store.entries_range(session, start, start + ref.width)
        if len(rows) != ref.width:
            raise LedgerError(f"entry bundle {ref.index}: entries missing from the ledger")
        _write(directory / entries_path(ref.index, ref.width), encode_bundle(d for _, d in rows))
        if progress is not None and (done % 64 == 0 or done == total):
            progress(done * TILE_WIDTH if done < total else size, size)
    _write(directory / "checkpoint", row.note.encode())
    return parse_checkpoint(split_note(row.note)[0])


def _read(directory: Path, relative: str) -> bytes:
    path = directory / relative
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise TileError(f"{relative}: missing from the tiles directory") from exc


def verify_tiles_dir(
    directory: Path,
    vkey: str,
    *,
    origin: str | None = None,
    verifiers: list[Verifier] | None = None,
    progress: Progress | None = None,
) -> Checkpoint:
    """Verifies a tlog-tiles directory against the log's verifier key; returns its checkpoint, or
    raises NoteError / TileError naming what is wrong (and the first bad entry where it applies).

    `origin` pins the checkpoint's origin line when given; ours equals the key name, but other logs
    may name their key differently from their origin, so it is not assumed."""
    verifier = ed25519_verifier(vkey)
    note = _read(directory, "checkpoint")
    checkpoint = open_checkpoint(note, [verifier, *(verifiers or [])]).checkpoint
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    size = checkpoint.size
    if size == 0:
        if checkpoint.root != EMPTY_ROOT:
            raise TileError("empty tree with a root other than SHA-256('')")
        return checkpoint

    # Level 0: entry bundles against leaf tiles.
    roots: list[bytes] = []  # roots of full tiles of the level being checked: the next level's hashes
    edges: list[list[bytes]] = []
    bundles = (size + TILE_WIDTH - 1) // TILE_WIDTH
    for index in range(bundles):
        width = tile_width(size, 0, index)
        entries = decode_bundle(_read(directory, entries_path(index, width)))
        if len(entries) != width:
            raise TileError(f"{entries_path(index, width)}: holds {len(entries)} entries, expected {width}")
        hashes = [leaf_hash(e) for e in entries]
        stored = split_hashes(_read(directory, tile_path(0, index, width)))
        if stored != hashes:
            bad = next(i for i, (a, b) in enumerate(zip(stored + [b""] * width, hashes, strict=False)) if a != b)
            raise TileError(
                f"entry {index * TILE_WIDTH + bad}: its hash differs from tile {tile_path(0, index, width)}"
            )
        if width == TILE_WIDTH:
            roots.append(perfect_root(hashes))
        else:
            edges.append(hashes)
        if progress is not None and (index % 64 == 0 or index == bundles - 1):
            progress(min((index + 1) * TILE_WIDTH, size), size)
    if len(edges) == 0:
        edges.append([])

    # Higher levels: each tile must hold the roots of the full tiles beneath it.
    level = 1
    while level_count(size, level) > 0:
        below, roots = roots, []
        count = level_count(size, level)
        for index in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
            width = tile_width(size, level, index)
            stored = split_hashes(_read(directory, tile_path(level, index, width)))
            expected = below[index * TILE_WIDTH : index * TILE_WIDTH + width]
            if stored != expected:
                bad = next(i for i, (a, b) in enumerate(zip(stored + [b""] * width, expected, strict=False)) if a != b)
                first_leaf = (index * TILE_WIDTH + bad) << (8 * level)
                raise TileError(f"entry {first_leaf}: tile {tile_path(level, index, width)} disagrees below it")
            if width == TILE_WIDTH:
                roots.append(perfect_root(stored))
            else:
                edges.append(stored)
        if len(edges) == level:
            edges.append([])
        level += 1

    if root_from_edges(edges) != checkpoint.root:
        raise TileError(f"the tiles' tree hash is not the checkpoint's root for size {size}")
    return checkpoint
