"""`ledger verify`: recompute the log from the database and compare it with everything stored.

Checks, in one pass over the entries: contiguous indices; the stored tiles against tiles rebuilt from
the entries (naming the first leaf whose hash differs); every signed checkpoint's signature and
root at its size; each checkpoint's consistency with the next, through a proof built from the
stored tiles; and, through each capability's CommitmentSource, that the records the entries commit
to still hash to those commitments (an edited, deleted, inserted or reordered row is named), that
every row has an entry of its own kind and no two rows claim one, and that the current state the
capability keeps beside its records follows from them (`consistency`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from clearguard.ledger import store
from clearguard.ledger.checkpoint import open_checkpoint
from clearguard.ledger.commitment import LedgerEntry, decode_entry
from clearguard.ledger.errors import LedgerError, NoteError
from clearguard.ledger.hashing import leaf_hash
from clearguard.ledger.proofs import consistency_proof, verify_consistency
from clearguard.ledger.tables import LedgerCheckpointRow
from clearguard.ledger.tiles import TILE_WIDTH, TileBuilder, split_hashes
from clearguard.ledger.verification import Disposed, Erased, Problem, Progress, VerifyReport

if TYPE_CHECKING:
    from clearguard.ledger.service import LedgerService

_CHUNK = TILE_WIDTH * 40


def verify_database(ledger: LedgerService, session: Session, progress: Progress | None = None) -> VerifyReport:
    problems: list[Problem] = []
    integrated, stored_root = store.tree_state(session)
    total = store.sequenced_size(session)
    checkpoints = store.checkpoints(session)
    by_size = {row.size: row for row in checkpoints}
    stored_tiles = {(lvl, idx): data for lvl, idx, data in store.iter_tiles(session)}
    builder = TileBuilder()
    decoded: list[tuple[int, LedgerEntry]] = []
    roots: dict[int, bytes] = {}
    tile_mismatch_reported = False
    expected = 0

    def check_tiles(changed: dict[tuple[int, int], bytes]) -> None:
        nonlocal tile_mismatch_reported
        for (level, index), data in changed.items():
            stored = stored_tiles.get((level, index), b"")
            # A full tile must match exactly; a partial one is a prefix of what is stored until the
            # builder reaches the integrated size, where the two must be equal.
            exact = len(data) == TILE_WIDTH * 32 or builder.size == integrated
            if (stored == data if exact else stored.startswith(data)) or tile_mismatch_reported:
                continue
            tile_mismatch_reported = True
            mine, theirs = split_hashes(data), split_hashes(stored[: len(stored) - len(stored) % 32])
            first = next((i for i, h in enumerate(mine) if i >= len(theirs) or theirs[i] != h), 0)
            leaf = (index * TILE_WIDTH + first) << (8 * level)
            problems.append(Problem(leaf, f"stored tree hash differs from the entry (tile level {level})"))

    # Sizes where the builder must pause: each checkpoint (to take its root) and the integrated size
    # (beyond which stored tiles do not exist yet).
    stops = sorted({*by_size, integrated})
    page: list[bytes] = []

    def feed(hashes: list[bytes]) -> None:
        pos = 0
        while pos < len(hashes):
            nxt = next((s for s in stops if s > builder.size), None)
            take = len(hashes) - pos if nxt is None else min(len(hashes) - pos, nxt - builder.size)
            before = builder.size
            changed = builder.extend(hashes[pos : pos + take])
            if before < integrated:
                check_tiles(changed)
            pos += take
            if builder.size in by_size or builder.size == integrated:
                roots[builder.size] = builder.root()

    for idx, data in store.iter_entries(session, _CHUNK):
        if idx != expected:
            problems.append(Problem(expected, f"missing: the next stored entry is {idx}"))
            break
        expected += 1
        try:
            decoded.append((idx, decode_entry(data)))
        except LedgerError:
            if ledger.strict_entries:
                problems.append(Problem(idx, "not a clearguard/entry/v1 entry"))
        page.append(leaf_hash(data))
        if len(page) == _CHUNK:
            feed(page)
            page = []
            if progress is not None:
                progress(expected, total)
    feed(page)
    if progress is not None:
        progress(expected, total)

    if expected < integrated:
        problems.append(Problem(expected, f"missing: {integrated} entries were integrated, {expected} remain"))
    elif integrated and roots.get(integrated) != stored_root and not tile_mismatch_reported:
        problems.append(Problem(None, "stored tree root differs from the recomputed root"))
    if expected > total:
        problems.append(Problem(total, "inserted: more entries than were ever sequenced"))

    _check_checkpoints(ledger, session, checkpoints, roots, problems)
    disposed: dict[int, int] = {}
    _check_sources(ledger, session, decoded, problems, disposed)
    problems.sort(key=lambda p: (p.index is None, p.index or 0))
    return VerifyReport(expected, len(checkpoints), tuple(problems), disposed)


def _check_checkpoints(
    ledger: LedgerService,
    session: Session,
    checkpoints: list[LedgerCheckpointRow],
    roots: dict[int, bytes],
    problems: list[Problem],
) -> None:
    reader = store.node_reader(session)
    previous = None
    for row in checkpoints:
        try:
            cp = open_checkpoint(row.note, [ledger.verifier], ledger.origin).checkpoint
        except NoteError as exc:
            problems.append(Problem(None, f"checkpoint {row.size}: {exc}"))
            continue
        if cp.size != row.size or cp.root != bytes(row.root):
            problems.append(Problem(None, f"checkpoint {row.size}: row disagrees with its signed note"))
        recomputed = roots.get(cp.size)
        if recomputed is None:
            problems.append(Problem(None, f"checkpoint {cp.size}: the log holds fewer entries"))
        elif recomputed != cp.root:
            problems.append(Problem(None, f"checkpoint {cp.size}: signed root differs from the entries"))
        if previous is not None and 0 < previous.size < cp.size:
            try:
                proof = consistency_proof(previous.size, cp.size, reader)
                verify_consistency(previous.size, cp.size, proof, previous.root, cp.root)
            except LedgerError as exc:
                problems.append(Problem(None, f"checkpoints {previous.size} -> {cp.size}: {exc}"))
        previous = cp


def _matches(source_kind: str, kind: str) -> bool:
    return kind == source_kind or (source_kind.endswith(".") and kind.startswith(source_kind))


def _check_sources(
    ledger: LedgerService,
    session: Session,
    decoded: list[tuple[int, LedgerEntry]],
    problems: list[Problem],
    disposed: dict[int, int],
) -> None:
    by_index = dict(decoded)
    for source in ledger.sources:
        entries = [(idx, e) for idx, e in decoded if _matches(source.kind, e.kind)]
        for start in range(0, len(entries), 1000):
            part = entries[start : start + 1000]
            found = source.recompute(session, part)
            for idx, entry in part:
                value = found.get(idx)
                if value is None:
                    problems.append(Problem(idx, f"{entry.kind} {entry.record_id}: its row is missing"))
                elif isinstance(value, Erased):
                    continue
                elif isinstance(value, Disposed):
                    disposed[value.run] = disposed.get(value.run, 0) + 1
                elif value != entry.commitment:
                    problems.append(Problem(idx, f"{entry.kind} {entry.record_id}: its row was altered"))
        claimed: set[int] = set()
        for index, name, record_id in source.ledger_indices(session):
            if index is None:
                problems.append(Problem(None, f"{source.kind} {name}: row has no ledger entry"))
                continue
            entered = by_index.get(index)
            if index in claimed:
                problems.append(Problem(index, f"{source.kind} {name}: a second row claims this entry"))
            elif (
                entered is None
                or not _matches(source.kind, entered.kind)
                or (record_id is not None and entered.record_id != record_id)
            ):
                problems.append(Problem(index, f"{source.kind} {name}: row not entered at this index"))
            claimed.add(index)
        problems.extend(Problem(index, message) for index, message in source.consistency(session))
