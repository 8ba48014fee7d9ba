"""The ledger: an append-only Merkle log of commitments (RFC 9162 hashing), signed C2SP checkpoints,
C2SP tlog-tiles publication, and witness cosignatures.

The pure core is importable from here by outside verifiers; the database service is in
clearguard.ledger.service and the I/O for tiles directories in clearguard.ledger.tiles_dir."""

from clearguard.ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from clearguard.ledger.commitment import (
    check_entry,
    commit_entries,
    commit_entry,
    commitment,
    decode_entry,
    encode_entry,
    new_salt,
)
from clearguard.ledger.cosignature import CosignatureSigner, CosignatureVerifier, cosignature_verifier
from clearguard.ledger.errors import LedgerError, NoteError, ProofError, TileError, VerificationFailed
from clearguard.ledger.hashing import EMPTY_ROOT, leaf_hash, node_hash, root_hash
from clearguard.ledger.note import (
    Ed25519Signer,
    Ed25519Verifier,
    ed25519_verifier,
    format_verifier_key,
    open_note,
    parse_verifier_key,
    sign_note,
)
from clearguard.ledger.proofs import consistency_proof, inclusion_proof, verify_consistency, verify_inclusion
from clearguard.ledger.receipt import Receipt, loads_receipt, verify_receipt
from clearguard.ledger.tiles import entries_path, format_index, parse_tile_path, tile_path
from clearguard.ledger.tree import MemoryTree

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519Signer",
    "Ed25519Verifier",
    "LedgerError",
    "MemoryTree",
    "NoteError",
    "ProofError",
    "Receipt",
    "TileError",
    "VerificationFailed",
    "check_entry",
    "commit_entries",
    "commit_entry",
    "commitment",
    "consistency_proof",
    "cosignature_verifier",
    "decode_entry",
    "ed25519_verifier",
    "encode_entry",
    "entries_path",
    "format_index",
    "format_verifier_key",
    "inclusion_proof",
    "leaf_hash",
    "loads_receipt",
    "new_salt",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_tile_path",
    "parse_verifier_key",
    "root_hash",
    "sign_note",
    "tile_path",
    "verify_consistency",
    "verify_inclusion",
    "verify_receipt",
]
