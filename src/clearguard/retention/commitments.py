"""Retention's answer to `ledger verify`: each run's certificate recomputes to its entry, and the
declarations marked disposed are exactly those the certificates of their runs name (a live
declaration marked disposed by hand, to hide an edit, is caught here)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.ledger.commitment import LedgerEntry, commitment
from clearguard.ledger.verification import Disposed, Erased
from clearguard.retention.certificate import LEDGER_KIND, canonical, record_id
from clearguard.retention.tables import DisposalRunRow


class DisposedDeclarations(Protocol):
    def disposals(self, session: Session) -> dict[str, int | None]: ...


class DisposedEvents(Protocol):
    def disposed_events(self, session: Session) -> dict[int, datetime]:
        """Run -> the latest time among the audit events it disposed of."""
        ...


class RetentionCommitments:
    kind = LEDGER_KIND

    def __init__(self, declarations: DisposedDeclarations, audit: DisposedEvents | None = None) -> None:
        self._declarations = declarations
        self._audit = audit

    def recompute(
        self, session: Session, entries: Sequence[tuple[int, LedgerEntry]]
    ) -> dict[int, bytes | Erased | Disposed]:
        indices = [idx for idx, _entry in entries]
        found: dict[int, bytes | Erased | Disposed] = {}
        for row in session.execute(select(DisposalRunRow).where(DisposalRunRow.ledger_index.in_(indices))).scalars():
            assert row.ledger_index is not None
            if row.certificate is None or row.salt is None:
                continue  # reported as missing: an entry whose certificate is gone
            found[row.ledger_index] = commitment(LEDGER_KIND, record_id(row.id), canonical(row.certificate), row.salt)
        return found

    def ledger_indices(self, session: Session) -> list[tuple[int | None, str, str | None]]:
        return [
            (None if index is None else int(index), f"disposal certificate of run {run}", record_id(run))
            for run, index in session.execute(
                select(DisposalRunRow.id, DisposalRunRow.ledger_index).where(DisposalRunRow.status == "complete")
            )
        ]

    def consistency(self, session: Session) -> list[tuple[int | None, str]]:
        problems: list[tuple[int | None, str]] = []
        runs = {row.id: row for row in session.execute(select(DisposalRunRow)).scalars()}
        marked: dict[int | None, set[str]] = {}
        for mrn, run in self._declarations.disposals(session).items():
            marked.setdefault(run, set()).add(mrn)
        for run, mrns in sorted(marked.items(), key=lambda item: item[0] or 0):
            row = runs.get(run) if run is not None else None
            if row is None:
                for mrn in sorted(mrns)[:20]:
                    problems.append((None, f"{mrn}: marked disposed by retention run {run}, which does not exist"))
                continue
            assert run is not None
            if row.status != "complete":
                problems.append(
                    (None, f"retention run {run} is incomplete: run `clearguard retention run` to finish it")
                )
                continue
            named = set((row.certificate or {}).get("mrns", []))
            problems.extend(_unnamed(mrns - named, run, row.ledger_index))
        if self._audit is not None:
            for run, latest in sorted(self._audit.disposed_events(session).items()):
                row = runs.get(run)
                cutoff = (row.certificate or {}).get("audit_events_before") if row is not None else None
                if row is None or row.status != "complete" or cutoff is None:
                    problems.append((None, f"audit events marked disposed by run {run}, which disposed of none"))
                elif latest.astimezone(UTC) >= datetime.fromisoformat(str(cutoff)):
                    message = f"audit events marked disposed by run {run} were recorded after its cutoff {cutoff}"
                    problems.append((row.ledger_index, message))
        for run, row in runs.items():
            if row.status == "complete":
                missing = set((row.certificate or {}).get("mrns", [])) - marked.get(run, set())
                for mrn in sorted(missing)[:20]:
                    problems.append((row.ledger_index, f"{mrn}: disposed of by run {run} but no longer marked so"))
        return problems


def _unnamed(mrns: Collection[str], run: int, index: int | None) -> list[tuple[int | None, str]]:
    return [
        (index, f"{mrn}: marked disposed by retention run {run}, whose certificate does not name it")
        for mrn in sorted(mrns)[:20]
    ]
