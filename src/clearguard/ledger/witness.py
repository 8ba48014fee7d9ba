"""C2SP tlog-witness v1.0.0 `add-checkpoint`, pure: parse the request, decide the answer.

The service holds the witness's state per log (latest cosigned size and root) and applies
`decide` inside one locked transaction, so checking the old size and storing the new one is one
atomic step, as the spec requires."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from clearguard.ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from clearguard.ledger.cosignature import CosignatureSigner
from clearguard.ledger.errors import LedgerError, NoteError, ProofError
from clearguard.ledger.hashing import HASH_SIZE
from clearguard.ledger.note import Verifier, b64decode_strict, split_note
from clearguard.ledger.proofs import verify_consistency

MAX_PROOF_LINES: Final = 63
SIZE_CONTENT_TYPE: Final = "text/x.tlog.size"
# At most 20 digits (uint64): int() of thousands of digits would raise ValueError.
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


class WitnessError(LedgerError):
    """A refused add-checkpoint; `status` is the HTTP status the spec names for the case."""

    slug = "witness-refused"
    title = "Witness refused the checkpoint"

    def __init__(self, status: int, detail: str, *, latest_size: int | None = None) -> None:
        super().__init__(detail)
        self.http_status = status  # per instance: one class, the spec's several answers
        self.latest_size = latest_size

    def body(self) -> tuple[str, str]:
        """(content type, body) of the HTTP answer."""
        if self.latest_size is not None:
            return SIZE_CONTENT_TYPE, f"{self.latest_size}\n"
        return "text/plain; charset=utf-8", self.detail + "\n"


class ForkDetected(WitnessError):
    """The log signed a checkpoint that is not consistent with the one this witness cosigned: a
    second history. Refused with the spec's status, and carries both checkpoints as evidence."""

    slug = "witness-fork-detected"
    title = "Checkpoint not consistent with the cosigned one"

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        checkpoint: Checkpoint,
        note: str,
        state: LogState,
        latest_size: int | None = None,
    ) -> None:
        super().__init__(status, detail, latest_size=latest_size)
        self.checkpoint = checkpoint
        self.note = note  # the log's signed checkpoint as it was sent: the evidence
        self.state = state


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WitnessError(400, "request body is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessError(400, "request body: no empty line before the checkpoint")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if match is None:
        raise WitnessError(400, "request body: first line must be 'old <size>', a decimal below 2**64")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError(400, f"request body: more than {MAX_PROOF_LINES} proof lines")
    try:
        proof = tuple(b64decode_strict(line, "proof line") for line in lines[1:])
    except NoteError as exc:
        raise WitnessError(400, str(exc)) from exc
    if any(len(h) != HASH_SIZE for h in proof):
        raise WitnessError(400, "request body: proof hashes must be 32 bytes")
    old_size = int(match.group(1))
    if old_size >= 1 << 64:
        raise WitnessError(400, "request body: old size does not fit 64 bits")
    return AddCheckpointRequest(old_size, proof, note)


def peek_origin(note: str) -> str:
    """The origin line of an unverified checkpoint, to find which log's keys to verify it with."""
    try:
        text, _ = split_note(note)
        return parse_checkpoint(text).origin
    except NoteError as exc:
        raise WitnessError(400, f"checkpoint: {exc}") from exc


@dataclass(frozen=True, slots=True)
class LogState:
    origin: str
    verifiers: tuple[Verifier, ...]
    size: int  # latest cosigned size, 0 if never
    root: bytes | None


def decide(request: AddCheckpointRequest, state: LogState | None) -> Checkpoint:
    """Checks a request against the witness's state for its log, in the spec's order. Returns the
    checkpoint to cosign and store, or raises WitnessError with the spec's status."""
    if state is None:
        raise WitnessError(404, "unknown log origin")
    try:
        checkpoint = open_checkpoint(request.note, state.verifiers, state.origin).checkpoint
    except NoteError as exc:
        raise WitnessError(403, f"checkpoint not signed by the log's key: {exc}") from exc
    if request.old_size > checkpoint.size:
        raise WitnessError(400, "old size is larger than the checkpoint size")
    if request.old_size != state.size:
        raise WitnessError(409, "old size is not the latest cosigned size", latest_size=state.size)
    if request.old_size == 0:
        if request.proof:
            raise WitnessError(422, "the proof must be empty when the old size is zero")
    elif request.old_size == checkpoint.size:
        if request.proof:
            raise WitnessError(422, "the proof must be empty between equal sizes")
        if checkpoint.root != state.root:
            raise ForkDetected(
                409,
                "same size, different root hash",
                checkpoint=checkpoint,
                note=request.note,
                state=state,
                latest_size=state.size,
            )
    else:
        assert state.root is not None
        try:
            verify_consistency(request.old_size, checkpoint.size, request.proof, state.root, checkpoint.root)
        except ProofError as exc:
            raise ForkDetected(
                422, f"consistency proof does not verify: {exc}", checkpoint=checkpoint, note=request.note, state=state
            ) from exc
    return checkpoint


def cosignature_lines(checkpoint: Checkpoint, signers: Sequence[CosignatureSigner], timestamp: int) -> str:
    return "".join(s.cosign(checkpoint.body(), timestamp).line() for s in signers)


def request_body(old_size: int, proof: Sequence[bytes], signed_checkpoint: str) -> bytes:
    """What a log sends to a witness."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + signed_checkpoint).encode()
