"""A FieldVault that does not encrypt: for the benchmark's "encryption off" baseline only.

Production wiring (clearguard.wiring) always uses the crypto capability's envelope vault.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

from sqlalchemy.orm import Session

from clearguard.crypto.blind import NORMALISERS, normalise_exact
from clearguard.crypto.fields import Erased, FieldRef


class PlainVault:
    def __init__(self) -> None:
        # As CryptoService: traders' EORIs and party references repeat, and are memoised.
        self._memo_index = functools.lru_cache(maxsize=10_000)(self._index)

    def key_for_party(self, session: Session, party_ref: str) -> int:
        return 0

    def keys_for_parties(self, session: Session, party_refs: Sequence[str]) -> list[int]:
        return [0] * len(party_refs)

    def close(self) -> None:
        pass

    def seal(self, session: Session, key_id: int, ref: FieldRef, plaintext: str) -> bytes:
        return plaintext.encode()

    def open(self, session: Session, key_id: int, ref: FieldRef, blob: bytes) -> str | Erased:
        return blob.decode()

    def seal_many(self, session: Session, items: Sequence[tuple[int, FieldRef, str]]) -> list[bytes]:
        return [plaintext.encode() for _key_id, _ref, plaintext in items]

    def open_many(self, session: Session, items: Sequence[tuple[int, FieldRef, bytes]]) -> list[str | Erased]:
        return [blob.decode() for _key_id, _ref, blob in items]

    def blind_index(self, kind: str, value: str) -> str:
        if kind in ("eori", "party"):
            return self._memo_index(kind, value)
        return self._index(kind, value)

    @staticmethod
    def _index(kind: str, value: str) -> str:
        # The same normalisation as the real index (it is what equality search means, encrypted or
        # not), then a plain hash where the real one is keyed: "encryption off" leaves out the key only.
        normalise = NORMALISERS.get(kind, normalise_exact)
        return hashlib.sha256(f"{kind}\x00{normalise(value)}".encode()).hexdigest()
