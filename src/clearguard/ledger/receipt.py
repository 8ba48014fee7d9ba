"""Receipts: an entry's index, the signed checkpoint it is in, and its inclusion proof; checkable
offline with the log's verifier key alone."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from clearguard.ledger.checkpoint import SignedCheckpoint, open_checkpoint
from clearguard.ledger.errors import MalformedReceipt, ProofError
from clearguard.ledger.hashing import leaf_hash
from clearguard.ledger.note import Verifier
from clearguard.ledger.proofs import verify_inclusion

RECEIPT_FORMAT = "clearguard/receipt/v1"


@dataclass(frozen=True, slots=True)
class Receipt:
    index: int
    entry: bytes
    checkpoint: str  # the signed note, verbatim
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECEIPT_FORMAT,
            "index": self.index,
            "entry": base64.b64encode(self.entry).decode(),
            "checkpoint": self.checkpoint,
            "inclusion_proof": [base64.b64encode(h).decode() for h in self.proof],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"


def receipt_from_json(data: Any) -> Receipt:
    try:
        if data["format"] != RECEIPT_FORMAT:
            raise MalformedReceipt(f"receipt: format must be {RECEIPT_FORMAT}")
        index = data["index"]
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise MalformedReceipt("receipt: index must be a non-negative integer")
        return Receipt(
            index=index,
            entry=base64.b64decode(data["entry"], validate=True),
            checkpoint=str(data["checkpoint"]),
            proof=tuple(base64.b64decode(h, validate=True) for h in data["inclusion_proof"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedReceipt(f"receipt: malformed ({exc.__class__.__name__})") from exc


def loads_receipt(text: str | bytes) -> Receipt:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MalformedReceipt("receipt: not JSON") from exc
    return receipt_from_json(data)


def verify_receipt(receipt: Receipt, verifiers: list[Verifier], origin: str | None = None) -> SignedCheckpoint:
    """Raises NoteError (bad signature) or ProofError (entry not in the signed tree)."""
    signed = open_checkpoint(receipt.checkpoint, verifiers, origin)
    cp = signed.checkpoint
    if receipt.index >= cp.size:
        raise ProofError(f"receipt: index {receipt.index} is not in a tree of size {cp.size}")
    verify_inclusion(leaf_hash(receipt.entry), receipt.index, cp.size, receipt.proof, cp.root)
    return signed
