"""The encrypted backup format on bytes: round trip, and every kind of damage refused."""

from __future__ import annotations

import io
import os

import pytest

from clearguard.backup import format as fmt
from clearguard.backup.errors import BackupCorrupt

KEY = b"b" * 32
CHUNK = 64


def seal(payload: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    writer = fmt.BackupWriter(out, key, fmt.KIND_SQLITE, chunk_size=CHUNK)
    for i in range(0, len(payload), 50):  # writes that do not line up with chunks
        writer.write(payload[i : i + 50])
    writer.close()
    return out.getvalue()


def unseal(data: bytes, key: bytes = KEY) -> bytes:
    _header, chunks = fmt.read_backup(io.BytesIO(data), key)
    return b"".join(chunks)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 10 * CHUNK])
def test_round_trip(size: int) -> None:
    payload = os.urandom(size)
    data = seal(payload)
    assert unseal(data) == payload
    assert payload[:16] not in data or size < 16


def chunk_offsets(data: bytes) -> list[int]:
    offsets, pos = [], fmt.HEADER_BYTES
    while pos < len(data):
        offsets.append(pos)
        pos += 4 + int.from_bytes(data[pos : pos + 4], "big")
    return offsets


@pytest.mark.asvs("V11.3.3")
def test_every_flipped_byte_is_refused() -> None:
    data = seal(os.urandom(3 * CHUNK + 5))
    for position in range(0, len(data), 7):
        damaged = bytearray(data)
        damaged[position] ^= 0x10
        with pytest.raises(BackupCorrupt):
            unseal(bytes(damaged))


def test_truncation_at_chunk_boundary_is_refused() -> None:
    data = seal(os.urandom(3 * CHUNK + 5))
    last = chunk_offsets(data)[-1]
    with pytest.raises(BackupCorrupt, match="truncated"):
        unseal(data[:last])


def test_reordered_chunks_are_refused() -> None:
    data = seal(os.urandom(3 * CHUNK))
    a, b, c = chunk_offsets(data)[:3]
    swapped = data[:a] + data[b:c] + data[a:b] + data[c:]
    with pytest.raises(BackupCorrupt, match="chunk 0"):
        unseal(swapped)


def test_trailing_data_is_refused() -> None:
    with pytest.raises(BackupCorrupt, match="after its last chunk"):
        unseal(seal(b"payload") + b"\x00")


def test_wrong_key_is_named() -> None:
    with pytest.raises(BackupCorrupt, match="different backup key"):
        unseal(seal(b"payload"), key=b"c" * 32)


def test_not_a_backup() -> None:
    with pytest.raises(BackupCorrupt, match="bad magic"):
        unseal(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(BackupCorrupt, match="too short"):
        unseal(b"CG")


def test_each_backup_has_its_own_file_key() -> None:
    payload = b"same payload" * 10
    assert seal(payload)[fmt.HEADER_BYTES :] != seal(payload)[fmt.HEADER_BYTES :]
