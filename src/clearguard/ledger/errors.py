"""The ledger's errors; each maps to a problem type and exit code through ClearGuardError."""

from __future__ import annotations

from clearguard.errors import ClearGuardError


class LedgerError(ClearGuardError):
    slug = "ledger-error"
    title = "Ledger error"
    status = 500
    exit_code = 1


class ProofError(LedgerError):
    """An inclusion or consistency proof does not hold, or cannot be built for the sizes asked."""

    slug = "invalid-proof"
    title = "Proof does not verify"
    status = 422
    exit_code = 1


class NoteError(LedgerError):
    """A signed note, checkpoint or key string is malformed or not signed by a trusted key."""

    slug = "invalid-signed-note"
    title = "Signed note does not verify"
    status = 422
    exit_code = 1


class MalformedReceipt(NoteError):
    """A receipt file that is not one (not JSON, a field missing or of the wrong type): bad input,
    exit 2, unlike a well-formed receipt that fails to verify (NoteError, ProofError: exit 1)."""

    slug = "malformed-receipt"
    title = "Receipt cannot be read"
    exit_code = 2


class TileError(LedgerError):
    """A tiles directory or tile path is malformed or disagrees with its checkpoint."""

    slug = "invalid-tiles"
    title = "Tiles do not verify"
    status = 422
    exit_code = 1


class EntryError(LedgerError):
    """An entry or commitment input breaks the ledger's format rules."""

    slug = "invalid-ledger-entry"
    title = "Invalid ledger entry"
    status = 400
    exit_code = 2


class NotIntegrated(LedgerError):
    """The entry is sequenced but not yet in a signed checkpoint."""

    slug = "ledger-entry-not-integrated"
    title = "Entry not yet integrated"
    status = 409
    exit_code = 1


class VerificationFailed(LedgerError):
    """The stored log disagrees with itself; `index` names the first divergent entry if known."""

    slug = "ledger-verification-failed"
    title = "Ledger verification failed"
    status = 500
    exit_code = 1

    def __init__(self, detail: str, *, index: int | None = None) -> None:
        super().__init__(detail, extra={} if index is None else {"index": index})
        self.index = index


class WitnessInputError(LedgerError):
    """A partner's witnessing or mirroring details (URL, keys, origin) break a rule."""

    slug = "invalid-witness-input"
    title = "Invalid witnessing input"
    status = 400
    exit_code = 2
