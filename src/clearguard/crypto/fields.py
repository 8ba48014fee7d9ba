"""Where a sealed value lives, and what an erased one reads as.

The vocabulary of sealing, owned here because crypto binds it into every ciphertext: the capabilities
that store protected values (declarations, and the ledger's verifier that recomputes them) import it
from crypto, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


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
    error and not as garbage; the ledger's verifier reports a record so marked as erased, not as
    tampering. One instance (ERASED)."""

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
