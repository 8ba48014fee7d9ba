"""Sharing's answer to `ledger verify`: every package sent, received or refused recomputes to its
entry, and the row still says what its entry committed to (its digest, its agreement): a row edited
afterwards, deleted or inserted without an entry is named."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.ledger.commitment import LedgerEntry, commitment
from clearguard.ledger.verification import Disposed, Erased
from clearguard.sharing.tables import SharingPackageRow

KINDS: Final = {"sent": "sharing.sent", "received": "sharing.received", "refused": "sharing.refused"}
_ALTERED: Final = b"\x00" * 32


def _consistent(row: SharingPackageRow, body: dict[str, object]) -> bool:
    digest = body.get("sd_jwt_sha256", body.get("bytes_sha256"))
    agreement = body.get("agreement")
    return (
        body.get("package") == row.id
        and digest == row.digest
        and (row.direction == "refused" or agreement == row.agreement_id)
        and (row.direction != "refused" or body.get("reason") == row.reason)
    )


class SharingCommitments:
    kind = "sharing."

    def recompute(
        self, session: Session, entries: Sequence[tuple[int, LedgerEntry]]
    ) -> dict[int, bytes | Erased | Disposed]:
        indices = [idx for idx, _entry in entries]
        found: dict[int, bytes | Erased | Disposed] = {}
        rows = session.execute(select(SharingPackageRow).where(SharingPackageRow.ledger_index.in_(indices))).scalars()
        for row in rows:
            assert row.ledger_index is not None
            try:
                body = json.loads(row.commitment_body)
            except ValueError:
                body = {}
            if not isinstance(body, dict) or not _consistent(row, body):
                found[row.ledger_index] = _ALTERED
                continue
            kind = KINDS.get(row.direction, "sharing.unknown")
            found[row.ledger_index] = commitment(kind, row.id, row.commitment_body.encode(), row.salt)
        return found

    def ledger_indices(self, session: Session) -> list[tuple[int | None, str, str | None]]:
        return [
            (None if index is None else int(index), f"{direction} package {package}", package)
            for package, direction, index in session.execute(
                select(SharingPackageRow.id, SharingPackageRow.direction, SharingPackageRow.ledger_index)
            )
        ]

    def consistency(self, session: Session) -> list[tuple[int | None, str]]:
        return []
