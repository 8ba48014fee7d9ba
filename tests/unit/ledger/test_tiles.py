"""tlog-tiles paths, widths, bundles and the right-edge builder."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearguard.ledger import MemoryTree, TileError, entries_path, format_index, parse_tile_path, tile_path
from clearguard.ledger.tiles import (
    TileBuilder,
    decode_bundle,
    encode_bundle,
    partial_width,
    split_hashes,
    tile_width,
    tiles_for_size,
)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_format_index(n: int, text: str) -> None:
    assert format_index(n) == text


def test_paths_roundtrip() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert entries_path(1000, 3) == "tile/entries/x001/000.p/3"
    for path in ["tile/0/x001/x234/067", "tile/2/005.p/17", "tile/entries/x001/000.p/3", "tile/entries/000"]:
        assert parse_tile_path(path).path() == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/0001",
        "tile/0/x000/001",
        "tile/0/001.p/256",
        "tile/0/001.p/0",
        "tile/0/001.p/007",
        "tile/64/000",
        "tile/entries/../000",
        "tile/0/001/",
        "checkpoint",
        "tile/01/000",
    ],
)
def test_non_canonical_paths_refused(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


def test_widths() -> None:
    size = 70000
    assert partial_width(size, 0) == 70000 % 256
    assert partial_width(size, 1) == (70000 // 256) % 256
    assert partial_width(size, 2) == 1
    assert tile_width(size, 0, 0) == 256
    assert tile_width(size, 0, 273) == 70000 % 256
    assert tile_width(size, 0, 274) == 0
    refs = list(tiles_for_size(size))
    assert sum(r.width for r in refs if r.level == 0) == size
    assert sum(r.width for r in refs if r.level == 1) == size // 256
    assert next(r for r in refs if r.level == 2).width == 1


def test_bundle_roundtrip_and_limits() -> None:
    entries = [b"", b"a", b"x" * 65535]
    assert decode_bundle(encode_bundle(entries)) == entries
    with pytest.raises(TileError):
        encode_bundle([b"x" * 65536])
    with pytest.raises(TileError):
        decode_bundle(b"\x00\x05abc")
    with pytest.raises(TileError):
        decode_bundle(b"\x00")
    with pytest.raises(TileError):
        split_hashes(b"\x00" * 33)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=6))
def test_builder_matches_tree_and_tiles(batches: list[int]) -> None:
    tree, builder = MemoryTree(), TileBuilder()
    stored: dict[tuple[int, int], bytes] = {}
    counter = 0
    for batch in batches:
        hashes = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(counter, counter + batch)]
        counter += batch
        tree.extend(hashes)
        stored.update(builder.extend(hashes))
        assert builder.root() == tree.root()
    for ref in tiles_for_size(tree.size):
        assert ref.level is not None
        level_nodes = [tree.node(8 * ref.level, ref.index * 256 + i) for i in range(ref.width)]
        assert stored[(ref.level, ref.index)] == b"".join(level_nodes)
    # A builder resumed from its stored edges continues identically.
    edges = [
        split_hashes(stored[(lvl, tree.size >> (8 * lvl) >> 8)]) if partial_width(tree.size, lvl) else []
        for lvl in range(len(builder.edges))
    ]
    resumed = TileBuilder(tree.size, edges)
    extra = [hashlib.sha256(b"more").digest()] * 300
    resumed.extend(extra)
    tree.extend(extra)
    assert resumed.root() == tree.root()
