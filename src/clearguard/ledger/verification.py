"""What verification reports, and what capabilities plug into it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

# A record whose salt was destroyed by crypto-shredding: unprovable by design, not tampering. The one
# Erased type, crypto's: what an opened value whose key is gone reads as.
from clearguard.crypto.fields import ERASED as ERASED
from clearguard.crypto.fields import Erased as Erased
from clearguard.ledger.commitment import LedgerEntry

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Disposed:
    """A record disposed of under a retention policy: its values are gone by design, and the run
    whose certificate (a ledger entry of its own) says when, why and by whom is `run`. Reported as
    disposed, never as tampering."""

    run: int


class CommitmentSource(Protocol):
    """What a capability gives the verifier so that editing, deleting or inserting its rows is
    caught. Rows remember the ledger index their entry got, so both questions are asked by index."""

    @property
    def kind(self) -> str:
        """The entry kind (or kind prefix ending in '.') this source answers for."""
        ...

    def recompute(
        self, session: Session, entries: Sequence[tuple[int, LedgerEntry]]
    ) -> Mapping[int, bytes | Erased | Disposed]:
        """For each (ledger index, entry): the commitment recomputed from the stored row and its
        salt, ERASED, or Disposed for a record a retention run disposed of. The entry's kind tells
        which format the row was written in, so entries written before a format change keep
        verifying; its record id may be opaque, for the source to recompute. Indices absent from
        the answer have no row: the record was deleted."""
        ...

    def ledger_indices(self, session: Session) -> Sequence[tuple[int | None, str, str | None]]:
        """(ledger index, how the report names the row, the record id its entry must carry) of every
        row the capability holds; index None for a row that has no
        entry: catches inserted rows, rows that claim another row's entry and rows never entered.
        A record id of None: the entry's id is opaque and recompute checks it (it needs the salt)."""
        ...

    def consistency(self, session: Session) -> Sequence[tuple[int | None, str]]:
        """(ledger index to name, message) for each piece of current state that disagrees with the
        committed history (a status that no committed transition led to, a row with no history):
        the rows that are not records themselves but must follow from them."""
        ...


@dataclass(frozen=True, slots=True)
class Problem:
    index: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.index is None else f"entry {self.index}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    size: int
    checkpoints: int
    problems: tuple[Problem, ...]
    # Entries whose records were disposed of under retention policies, by disposal run.
    disposed: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_divergent_index(self) -> int | None:
        indices = [p.index for p in self.problems if p.index is not None]
        return min(indices) if indices else None
