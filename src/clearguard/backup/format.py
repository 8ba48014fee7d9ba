"""The encrypted backup file format (pure: works on byte streams, no database).

    header (70 bytes, bound into every chunk as associated data):
        magic "CGBACKUP" | format 0x01 | kind (1 = SQLite image, 2 = pg_dump custom archive)
        | chunk size (u32) | salt (32) | nonce prefix (7) | created (u64 unix s) | key id (8)
    chunks, in order:
        length of sealed chunk (u32) | AES-256-GCM(chunk) with nonce = prefix | index (u32) | last (u8)

The file key is HKDF-SHA256(backup key, salt) so no two backups share a key; the index in the nonce
stops reordering, the last flag stops truncation at a chunk boundary, and anything after the last
chunk is refused. The key id (from the backup key, not the file key) only tells a wrong key apart
from tampering in the error message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clearguard.backup.errors import BackupCorrupt

MAGIC: Final = b"CGBACKUP"
FORMAT_V1: Final = 1
KIND_SQLITE: Final = 1
KIND_PG_DUMP: Final = 2
KINDS: Final = {KIND_SQLITE: "sqlite", KIND_PG_DUMP: "pg_dump"}
DEFAULT_CHUNK: Final = 1 << 20
MAX_CHUNK: Final = 16 << 20
_HEADER: Final = struct.Struct(">8sBBI32s7sQ8s")
HEADER_BYTES: Final = _HEADER.size
_LEN: Final = struct.Struct(">I")
TAG_BYTES: Final = 16


@dataclass(frozen=True, slots=True)
class Header:
    kind: int
    chunk_size: int
    salt: bytes
    nonce_prefix: bytes
    created: int
    key_id: bytes

    def pack(self) -> bytes:
        return _HEADER.pack(
            MAGIC,
            FORMAT_V1,
            self.kind,
            self.chunk_size,
            self.salt,
            self.nonce_prefix,
            self.created,
            self.key_id,
        )


def key_id(backup_key: bytes) -> bytes:
    return hmac.new(backup_key, b"clearguard/backup/key-id", hashlib.sha256).digest()[:8]


def _file_cipher(backup_key: bytes, salt: bytes) -> AESGCM:
    return AESGCM(HKDF(hashes.SHA256(), 32, salt=salt, info=b"clearguard/backup/v1").derive(backup_key))


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class BackupWriter:
    """Seals a byte stream into `out`. Call write() any number of times, then close() exactly once;
    a writer that is never closed leaves a file that restore refuses (no last chunk)."""

    def __init__(self, out: BinaryIO, backup_key: bytes, kind: int, *, chunk_size: int = DEFAULT_CHUNK) -> None:
        if not 0 < chunk_size <= MAX_CHUNK:
            raise ValueError("chunk size out of range")
        self._out = out
        self.header = Header(kind, chunk_size, os.urandom(32), os.urandom(7), int(time.time()), key_id(backup_key))
        self._aad = self.header.pack()
        self._cipher = _file_cipher(backup_key, self.header.salt)
        self._buffer = bytearray()
        self._index = 0
        self.plaintext_bytes = 0
        out.write(self._aad)

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.plaintext_bytes += len(data)
        size = self.header.chunk_size
        # Keep at least one byte back: the last chunk must be sealed with the last flag set.
        while len(self._buffer) > size:
            self._seal(bytes(self._buffer[:size]), last=False)
            del self._buffer[:size]

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        sealed = self._cipher.encrypt(_nonce(self.header.nonce_prefix, self._index, last), chunk, self._aad)
        self._out.write(_LEN.pack(len(sealed)) + sealed)
        self._index += 1


def read_header(inp: IO[bytes]) -> Header:
    raw = inp.read(HEADER_BYTES)
    if len(raw) != HEADER_BYTES:
        raise BackupCorrupt("not a ClearGuard backup: file too short")
    magic, fmt, kind, chunk_size, salt, prefix, created, kid = _HEADER.unpack(raw)
    if magic != MAGIC:
        raise BackupCorrupt("not a ClearGuard backup: bad magic")
    if fmt != FORMAT_V1 or kind not in KINDS or not 0 < chunk_size <= MAX_CHUNK:
        raise BackupCorrupt(f"unsupported backup format {fmt}, kind {kind}")
    return Header(kind, chunk_size, salt, prefix, created, kid)


def read_backup(inp: IO[bytes], backup_key: bytes) -> tuple[Header, Iterator[bytes]]:
    """The header and an iterator of verified plaintext chunks. The iterator raises BackupCorrupt at
    the first chunk that does not authenticate, on truncation and on trailing data; a consumer that
    must not act on unverified data reads it to the end first."""
    header = read_header(inp)
    if not hmac.compare_digest(header.key_id, key_id(backup_key)):
        raise BackupCorrupt("backup was made with a different backup key (var/keys/backup.wrapped)")
    return header, _chunks(inp, backup_key, header)


def _chunks(inp: IO[bytes], backup_key: bytes, header: Header) -> Iterator[bytes]:
    cipher = _file_cipher(backup_key, header.salt)
    aad = header.pack()
    index = 0
    while True:
        raw_len = inp.read(_LEN.size)
        if len(raw_len) != _LEN.size:
            raise BackupCorrupt(f"backup is truncated: chunk {index} missing, the last chunk never came")
        (length,) = _LEN.unpack(raw_len)
        if not TAG_BYTES <= length <= header.chunk_size + TAG_BYTES:
            raise BackupCorrupt(f"backup is corrupt: chunk {index} has an impossible length")
        sealed = inp.read(length)
        if len(sealed) != length:
            raise BackupCorrupt(f"backup is truncated inside chunk {index}")
        for last in (False, True):
            try:
                chunk = cipher.decrypt(_nonce(header.nonce_prefix, index, last), sealed, aad)
                break
            except InvalidTag:
                continue
        else:
            raise BackupCorrupt(f"backup does not authenticate at chunk {index}: tampered or corrupt")
        yield chunk
        index += 1
        if last:
            if inp.read(1):
                raise BackupCorrupt("backup has data after its last chunk")
            return
