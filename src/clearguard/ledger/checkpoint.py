"""C2SP tlog-checkpoint v1.0.0 bodies: origin, decimal tree size, base64 root hash."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from clearguard.ledger.errors import NoteError
from clearguard.ledger.hashing import HASH_SIZE
from clearguard.ledger.note import OpenedNote, Signer, Verifier, b64decode_strict, open_note, sign_note

# At most 20 digits: 2**64 - 1 has 20, and int() of thousands of digits raises ValueError.
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()  # parsed from others' checkpoints, never emitted by ours

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    def sign(self, signer: Signer, *more: Signer) -> str:
        return sign_note(self.body(), [signer, *more])


def parse_checkpoint(text: str) -> Checkpoint:
    if not text.endswith("\n"):
        raise NoteError("checkpoint: must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint: needs origin, size and root hash lines")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise NoteError("checkpoint: empty origin line")
    if not _SIZE.fullmatch(size_line):
        raise NoteError("checkpoint: tree size must be a decimal of at most 20 digits without leading zeros")
    root = b64decode_strict(root_line, "checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise NoteError(f"checkpoint: root hash must be {HASH_SIZE} bytes")
    if any(not line for line in extensions):
        raise NoteError("checkpoint: empty extension line")
    size = int(size_line)
    if size >= 1 << 64:
        raise NoteError("checkpoint: tree size does not fit 64 bits")
    return Checkpoint(origin, size, root, tuple(extensions))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: OpenedNote


def open_checkpoint(note: str | bytes, verifiers: Sequence[Verifier], origin: str | None = None) -> SignedCheckpoint:
    """Verifies the note and parses its body; the origin must be the one expected, when given."""
    opened = open_note(note, verifiers)
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint: origin {checkpoint.origin!r} is not {origin!r}")
    return SignedCheckpoint(checkpoint, opened)
