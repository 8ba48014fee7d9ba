"""Database access for the ledger: sequencing, tiles, entries, checkpoints. No policy here."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from hashlib import sha256
from typing import Any, cast

from sqlalchemy import Integer, Table, and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clearguard.db import DriverStatement, bulk_insert, utcnow
from clearguard.ledger.errors import EntryError, LedgerError
from clearguard.ledger.hashing import EMPTY_ROOT, perfect_root
from clearguard.ledger.proofs import NodeId
from clearguard.ledger.tables import (
    LedgerCheckpointRow,
    LedgerEntryRow,
    LedgerSequence,
    LedgerTile,
    LedgerTreeState,
)
from clearguard.ledger.tiles import (
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    level_count,
    partial_width,
    split_hashes,
)

_SINGLETON = 1
_sequence = cast(Table, LedgerSequence.__table__)
_entries = cast(Table, LedgerEntryRow.__table__)
_tiles = cast(Table, LedgerTile.__table__)
_tree = cast(Table, LedgerTreeState.__table__)


def _insert(session: Session, table: Any) -> Any:
    """INSERT with ON CONFLICT support on both databases."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_RESERVE = DriverStatement(
    update(_sequence)
    .where(_sequence.c.id == _SINGLETON)
    .values(next_index=_sequence.c.next_index + bindparam("count", type_=Integer))
    .returning(_sequence.c.next_index)
)


def reserve_indices(session: Session, count: int) -> int:
    """Bumps the counter by `count` in the caller's transaction; returns the first reserved index.

    UPDATE ... RETURNING takes the row lock on PostgreSQL (as SELECT ... FOR UPDATE would) and is
    held until the caller commits or rolls back, so concurrent writers queue here. Run on the
    driver (DriverStatement): every lodging transaction calls it, twice."""
    if count < 1:
        raise EntryError("nothing to append")
    rows = _RESERVE.rows(session, count=count)
    if not rows:
        session.execute(_insert(session, _sequence).values(id=_SINGLETON, next_index=0).on_conflict_do_nothing())
        rows = _RESERVE.rows(session, count=count)
        if not rows:  # pragma: no cover - the insert above guarantees the row
            raise LedgerError("ledger sequence row missing")
    return int(rows[0][0]) - count


def append_entries(session: Session, entries: Sequence[bytes]) -> int:
    """Sequences `entries` in the caller's transaction (one counter bump, one executemany); returns
    the first index, the rest following in order."""
    for entry in entries:
        if not isinstance(entry, bytes) or len(entry) > MAX_ENTRY_SIZE:
            raise EntryError(f"ledger entries are bytes of at most {MAX_ENTRY_SIZE}")
    first = reserve_indices(session, len(entries))
    now = utcnow()
    bulk_insert(session, _entries, [{"idx": first + i, "data": e, "created_at": now} for i, e in enumerate(entries)])
    return first


def sequenced_size(session: Session) -> int:
    value = session.execute(select(_sequence.c.next_index).where(_sequence.c.id == _SINGLETON)).scalar()
    return int(value or 0)


def lock_tree(session: Session) -> tuple[int, bytes]:
    """(size, root) of the integrated tree, with its row locked for this transaction."""
    session.execute(
        _insert(session, _tree)
        .values(id=_SINGLETON, size=0, root=EMPTY_ROOT, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    row = session.execute(select(_tree.c.size, _tree.c.root).where(_tree.c.id == _SINGLETON).with_for_update()).one()
    return int(row.size), bytes(row.root)


def snapshot(session: Session) -> None:
    """Makes the rest of `session`'s reads one consistent view of the log.

    PostgreSQL's default (READ COMMITTED) gives each statement its own snapshot: a verification
    beside a live server read the tree's size in one and the tiles in the next, after the server had
    integrated more entries, and reported the grown partial tile as tampering. REPEATABLE READ holds
    the first snapshot for the whole transaction; SQLite's read transaction already does. The
    isolation level can only be chosen before the transaction's first statement: `ledger verify`, the
    self-audit and the auditor's page pass a fresh session; a caller already inside a transaction
    keeps the isolation it chose."""
    if session.get_bind().dialect.name != "postgresql" or session.in_transaction():
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def tree_state(session: Session) -> tuple[int, bytes]:
    row = session.execute(select(_tree.c.size, _tree.c.root).where(_tree.c.id == _SINGLETON)).first()
    return (0, EMPTY_ROOT) if row is None else (int(row.size), bytes(row.root))


def set_tree(session: Session, size: int, root: bytes) -> None:
    session.execute(update(_tree).where(_tree.c.id == _SINGLETON).values(size=size, root=root, updated_at=utcnow()))


def entries_from(session: Session, start: int, limit: int) -> list[tuple[int, bytes]]:
    rows = session.execute(
        select(_entries.c.idx, _entries.c.data).where(_entries.c.idx >= start).order_by(_entries.c.idx).limit(limit)
    ).all()
    return [(int(r.idx), bytes(r.data)) for r in rows]


def entries_range(session: Session, start: int, end: int) -> list[tuple[int, bytes]]:
    rows = session.execute(
        select(_entries.c.idx, _entries.c.data)
        .where(_entries.c.idx >= start, _entries.c.idx < end)
        .order_by(_entries.c.idx)
    ).all()
    return [(int(r.idx), bytes(r.data)) for r in rows]


def iter_entries(session: Session, chunk: int = 10_000) -> Iterator[tuple[int, bytes]]:
    """Every entry in index order, paged by primary key so memory stays flat."""
    start = 0
    while True:
        rows = entries_from(session, start, chunk)
        if not rows:
            return
        yield from rows
        start = rows[-1][0] + 1


def entry(session: Session, index: int) -> bytes | None:
    value = session.execute(select(_entries.c.data).where(_entries.c.idx == index)).scalar()
    return None if value is None else bytes(value)


def edge_tiles(session: Session, size: int) -> list[list[bytes]]:
    """The right-edge partial tile of each level, as the TileBuilder resumes from."""
    wanted = []
    level = 0
    while level_count(size, level) > 0:
        if partial_width(size, level):
            wanted.append((level, level_count(size, level) // TILE_WIDTH))
        level += 1
    tiles = read_tiles(session, wanted)
    edges: list[list[bytes]] = []
    for lvl in range(level):
        width = partial_width(size, lvl)
        if not width:
            edges.append([])
            continue
        data = tiles.get((lvl, level_count(size, lvl) // TILE_WIDTH))
        if data is None or len(data) < width * 32:
            raise LedgerError(f"ledger tiles: right-edge tile at level {lvl} is missing or short")
        edges.append(split_hashes(data[: width * 32]))
    return edges


def read_tiles(session: Session, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    if not ids:
        return {}
    found: dict[tuple[int, int], bytes] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 200):
        part = unique[start : start + 200]
        condition = or_(*(and_(_tiles.c.level == lvl, _tiles.c.tile_index == idx) for lvl, idx in part))
        for row in session.execute(select(_tiles.c.level, _tiles.c.tile_index, _tiles.c.hashes).where(condition)):
            found[(int(row.level), int(row.tile_index))] = bytes(row.hashes)
    return found


def write_tiles(session: Session, changed: dict[tuple[int, int], bytes]) -> None:
    if not changed:
        return
    keys = list(changed)
    for start in range(0, len(keys), 200):
        part = keys[start : start + 200]
        session.execute(
            delete(_tiles).where(or_(*(and_(_tiles.c.level == lvl, _tiles.c.tile_index == idx) for lvl, idx in part)))
        )
    session.execute(
        _tiles.insert(),
        [
            {"level": lvl, "tile_index": idx, "width": len(data) // 32, "hashes": data}
            for (lvl, idx), data in changed.items()
        ],
    )


def iter_tiles(session: Session) -> Iterator[tuple[int, int, bytes]]:
    rows = session.execute(
        select(_tiles.c.level, _tiles.c.tile_index, _tiles.c.hashes).order_by(_tiles.c.level, _tiles.c.tile_index)
    )
    for row in rows:
        yield int(row.level), int(row.tile_index), bytes(row.hashes)


class TileCache:
    """Stored tiles only ever grow (a partial tile is a prefix of its later self), so a process
    keeps what it read, with every interior level already hashed: a proof then costs dictionary
    lookups instead of tile reads and rehashing. A cached partial tile serves only the nodes inside
    its width; a node beyond it sends the reader back to the database."""

    def __init__(self, max_tiles: int = 1024) -> None:
        self._tiles: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()
        self._max = max_tiles
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> list[bytes] | None:
        with self._lock:
            levels = self._tiles.get(key)
            if levels is not None:
                self._tiles.move_to_end(key)
            return levels

    def put(self, key: tuple[int, int], data: bytes) -> list[bytes]:
        levels = [data]
        while len(levels[-1]) >= 64:
            below = levels[-1]
            pairs = len(below) // 64 * 64
            levels.append(b"".join(sha256(b"\x01" + below[i : i + 64]).digest() for i in range(0, pairs, 64)))
        with self._lock:
            self._tiles[key] = levels
            if len(self._tiles) > self._max:
                self._tiles.popitem(last=False)
        return levels


def _node_from_levels(levels: list[bytes] | None, offset: int, sub: int) -> bytes | None:
    if levels is None or sub >= len(levels):
        return None
    pos = (offset >> sub) * 32
    node = levels[sub][pos : pos + 32]
    return node if len(node) == 32 else None


def node_reader(session: Session, cache: TileCache | None = None) -> Any:
    """A proofs.NodeReader over the stored tiles: a node at height h inside tile level h // 8 is the
    perfect root of 2**(h % 8) consecutive tile hashes, so each tile read serves many nodes."""

    def read(ids: Sequence[NodeId]) -> list[bytes]:
        where: list[tuple[int, int, int, int]] = []
        for level, index in ids:
            tile_level, sub = divmod(level, TILE_HEIGHT)
            first = index << sub
            where.append((tile_level, first // TILE_WIDTH, first % TILE_WIDTH, sub))
        out: list[bytes | None] = [None] * len(where)
        if cache is not None:
            for i, (lvl, idx, offset, sub) in enumerate(where):
                out[i] = _node_from_levels(cache.get((lvl, idx)), offset, sub)
        tiles = read_tiles(
            session, [(lvl, idx) for (lvl, idx, _, _), node in zip(where, out, strict=True) if node is None]
        )
        fresh = {key: (cache.put(key, data) if cache is not None else None) for key, data in tiles.items()}
        result: list[bytes] = []
        for (lvl, idx, offset, sub), node in zip(where, out, strict=True):
            if node is None:
                node = _node_from_levels(fresh.get((lvl, idx)), offset, sub)
            if node is None:
                data = tiles.get((lvl, idx))
                count = 1 << sub
                if data is None or len(data) < (offset + count) * 32:
                    raise LedgerError(f"ledger tiles: tile {lvl}/{idx} is missing or short")
                node = perfect_root(split_hashes(data[offset * 32 : (offset + count) * 32]))
            result.append(node)
        return result

    return read


def add_checkpoint(session: Session, size: int, root: bytes, note: str) -> None:
    session.add(LedgerCheckpointRow(size=size, root=root, note=note, created_at=utcnow()))
    session.flush()


def latest_checkpoint(session: Session) -> LedgerCheckpointRow | None:
    return session.execute(
        select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.size.desc()).limit(1)
    ).scalar_one_or_none()


def checkpoints(session: Session) -> list[LedgerCheckpointRow]:
    return list(session.execute(select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.size)).scalars())
