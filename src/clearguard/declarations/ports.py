"""What the lifecycle needs from other capabilities, as protocols.

The lifecycle service is the one way declarations are written; encryption, the ledger, the audit
trail and risk scoring plug in here. Each capability's service satisfies its protocol; the wiring is
in clearguard.wiring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sqlalchemy.orm import Session


def field_aad(table: str, record_id: str, field: str, version: int) -> bytes:
    """Associated data of a field: format byte, then each part length-prefixed, so the encoding is
    injective (no two different (table, record id, field, version) give the same bytes). Cheap,
    because it runs once per sealed or opened field."""
    return f"\x01{len(table)}:{table}{len(record_id)}:{record_id}{len(field)}:{field}{version}".encode()


@dataclass(frozen=True, slots=True)
class FieldRef:
    """Where a protected value lives; bound into the ciphertext as associated data, so a ciphertext
    copied onto another record, field or version fails to decrypt."""

    table: str
    record_id: str
    field: str
    version: int

    def aad(self) -> bytes:
        return field_aad(self.table, self.record_id, self.field, self.version)


class Erased:
    """Marker for a value whose party key was destroyed (crypto-shredded): reads as erased, not as an
    error and not as garbage."""

    _instance: Erased | None = None

    def __new__(cls) -> Erased:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ERASED"

    def __str__(self) -> str:
        return ERASED_TEXT


ERASED: Final = Erased()
ERASED_TEXT: Final = "[erased]"


class FieldVault(Protocol):
    """Envelope encryption of protected fields, one data key per party."""

    def key_for_party(self, session: Session, party_ref: str) -> int:
        """Id of the party's data key, created (and wrapped) on first use."""
        ...

    def seal(self, session: Session, key_id: int, ref: FieldRef, plaintext: str) -> bytes: ...

    def open(self, session: Session, key_id: int, ref: FieldRef, blob: bytes) -> str | Erased: ...

    def seal_many(self, session: Session, items: Sequence[tuple[int, FieldRef, str]]) -> list[bytes]:
        """(key id, where, plaintext) of one record's values, sealed in order."""
        ...

    def open_many(self, session: Session, items: Sequence[tuple[int, FieldRef, bytes]]) -> list[str | Erased]:
        """(key id, where, blob) of one record's values, opened in order."""
        ...

    def blind_index(self, kind: str, value: str) -> str:
        """Deterministic keyed index (hex) for equality search without decrypting."""
        ...


class LedgerSink(Protocol):
    def append(self, session: Session, entry: bytes) -> int:
        """Sequence one entry inside the caller's transaction; returns its index."""
        ...


@dataclass(frozen=True, slots=True)
class RiskOutcome:
    channel: str  # green | yellow | red | blue
    score: float | None = None
    reasons: dict[str, Any] = field(default_factory=dict)


class RiskAssessor(Protocol):
    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Any], fresh: bool = False
    ) -> RiskOutcome:
        """Score a lodged declaration (before its rows are inserted, so the status is final at once).
        `fresh`: the MRN was just made, so there is no earlier decision to keep."""
        ...
