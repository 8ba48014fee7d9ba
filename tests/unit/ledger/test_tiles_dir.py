"""Offline verification of tiles directories, written here independently of our publisher (from
the in-memory tree's levels, as any tlog-tiles implementation lays them out)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearguard.ledger import Checkpoint, Ed25519Signer, MemoryTree, NoteError, TileError
from clearguard.ledger.tiles import encode_bundle, entries_path, tile_path, tiles_for_size
from clearguard.ledger.tiles_dir import verify_tiles_dir

SIGNER = Ed25519Signer("tiles.example/log", Ed25519PrivateKey.from_private_bytes(b"\x07" * 32))


def write_dir(directory: Path, entries: list[bytes], signer: Ed25519Signer = SIGNER) -> MemoryTree:
    tree = MemoryTree()
    for e in entries:
        tree.append_entry(e)
    size = tree.size
    for ref in tiles_for_size(size):
        assert ref.level is not None
        data = b"".join(tree.node(8 * ref.level, ref.index * 256 + i) for i in range(ref.width))
        path = directory / tile_path(ref.level, ref.index, ref.width)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if ref.level == 0:
            bundle = directory / entries_path(ref.index, ref.width)
            bundle.parent.mkdir(parents=True, exist_ok=True)
            bundle.write_bytes(encode_bundle(entries[ref.index * 256 : ref.index * 256 + ref.width]))
    (directory / "checkpoint").write_text(Checkpoint(signer.name, size, tree.root()).sign(signer))
    return tree


@pytest.mark.parametrize("size", [1, 255, 256, 257, 65536 + 300])
def test_verifies_sizes_across_tile_boundaries(tmp_path: Path, size: int) -> None:
    entries = [f"e{i}".encode() for i in range(size)]
    write_dir(tmp_path, entries)
    cp = verify_tiles_dir(tmp_path, SIGNER.vkey())
    assert cp.size == size


def test_altered_entry_is_named(tmp_path: Path) -> None:
    entries = [f"e{i}".encode() for i in range(600)]
    write_dir(tmp_path, entries)
    bundle = tmp_path / entries_path(1)
    data = bundle.read_bytes().replace(b"e300", b"E300")
    bundle.write_bytes(data)
    with pytest.raises(TileError, match="entry 300"):
        verify_tiles_dir(tmp_path, SIGNER.vkey())


def test_consistent_rewrite_caught_by_checkpoint(tmp_path: Path) -> None:
    # A log that rewrites an entry and all tiles coherently still cannot match the signed root (with
    # nothing but the key, the root is all there is to localise against).
    entries = [f"e{i}".encode() for i in range(600)]
    write_dir(tmp_path, entries)
    signed = (tmp_path / "checkpoint").read_text()
    entries[5] = b"rewritten"
    write_dir(tmp_path, entries)
    (tmp_path / "checkpoint").write_text(signed)
    with pytest.raises(TileError, match="not the checkpoint's root"):
        verify_tiles_dir(tmp_path, SIGNER.vkey())


def test_wrong_key_and_missing_tile(tmp_path: Path) -> None:
    write_dir(tmp_path, [b"a", b"b", b"c"])
    other = Ed25519Signer("tiles.example/log", Ed25519PrivateKey.from_private_bytes(b"\x08" * 32))
    with pytest.raises(NoteError):
        verify_tiles_dir(tmp_path, other.vkey())
    (tmp_path / tile_path(0, 0, 3)).unlink()
    with pytest.raises(TileError, match="missing"):
        verify_tiles_dir(tmp_path, SIGNER.vkey())


def test_origin_other_than_key_name(tmp_path: Path) -> None:
    # Some logs name their key differently from their origin line; the key still decides.
    signer = Ed25519Signer("key.example", Ed25519PrivateKey.from_private_bytes(b"\x09" * 32))
    tree = write_dir(tmp_path, [b"a", b"b"], signer)
    (tmp_path / "checkpoint").write_text(Checkpoint("origin.example/log", 2, tree.root()).sign(signer))
    assert verify_tiles_dir(tmp_path, signer.vkey()).origin == "origin.example/log"
    assert verify_tiles_dir(tmp_path, signer.vkey(), origin="origin.example/log").size == 2
    with pytest.raises(NoteError, match="origin"):
        verify_tiles_dir(tmp_path, signer.vkey(), origin="other.example")
