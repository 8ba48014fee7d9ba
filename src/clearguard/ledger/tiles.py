"""C2SP tlog-tiles: paths, tile maths, entry bundles, and the right-edge state a tiled log keeps.

Level l tile i holds the hashes of the nodes at tree height 8*l, indices 256*i up to 256*i + width;
level 0 holds leaf hashes. Partial tiles appear only on the right edge of the tree."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from clearguard.ledger.errors import TileError
from clearguard.ledger.hashing import EMPTY_ROOT, HASH_SIZE, compact_roots, fold_right, perfect_root

TILE_HEIGHT: Final = 8
TILE_WIDTH: Final = 1 << TILE_HEIGHT
MAX_ENTRY_SIZE: Final = 0xFFFF
MAX_TILE_INDEX: Final = (1 << 64) - 1
# Bounded repetitions: a tile index below 2**64 has at most 20 digits (7 groups), a level at most 2,
# so no path can make int() convert thousands of digits (Python refuses beyond 4,300: a 500).
_PATH = re.compile(r"tile/(entries|\d{1,2})/((?:x\d{3}/){0,6}\d{3})(?:\.p/(\d{1,3}))?")


def format_index(n: int) -> str:
    """1234067 -> x001/x234/067: groups of three digits, all but the last prefixed with x."""
    if not 0 <= n <= MAX_TILE_INDEX:
        raise TileError("tile index must be from 0 to 2**64 - 1")
    digits = f"{n:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def _suffix(width: int) -> str:
    if not 0 < width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is outside 1..{TILE_WIDTH}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    if not 0 <= level <= 63:
        raise TileError(f"tile level {level} is outside 0..63")
    return f"tile/{level}/{format_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    return f"tile/entries/{format_index(index)}{_suffix(width)}"


@dataclass(frozen=True, slots=True)
class TileRef:
    level: int | None  # None for an entry bundle
    index: int
    width: int

    def path(self) -> str:
        if self.level is None:
            return entries_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)


def parse_tile_path(path: str) -> TileRef:
    """Refuses anything but canonical tile paths (no leading zeros beyond the groups, no .p/256, an
    index below 2**64); the error quotes at most the path's first 80 characters."""
    match = _PATH.fullmatch(path) if len(path) <= 64 else None
    if match is None:
        raise TileError(f"not a tile path: {path[:80]!r}")
    kind, encoded, width_text = match.groups()
    groups = encoded.split("/")
    index = int("".join(g.lstrip("x") for g in groups))
    width = TILE_WIDTH if width_text is None else int(width_text)
    level = None if kind == "entries" else int(kind)
    ref = TileRef(level, index, width)
    try:
        canonical = ref.path()
    except TileError as exc:
        raise TileError(f"not a tile path: {path!r}") from exc
    if canonical != path:
        raise TileError(f"not a canonical tile path: {path!r}")
    return ref


def level_count(size: int, level: int) -> int:
    """How many hashes level `level` of tiles holds for a tree of `size` leaves."""
    return size >> (TILE_HEIGHT * level)


def partial_width(size: int, level: int) -> int:
    """floor(size / 256**level) mod 256: the width of the right-edge partial tile (0: none)."""
    return level_count(size, level) % TILE_WIDTH


def tile_width(size: int, level: int, index: int) -> int:
    """Width of tile (level, index) in a tree of `size`; 0 when the tile does not exist."""
    count = level_count(size, level)
    full = count // TILE_WIDTH
    if index < full:
        return TILE_WIDTH
    if index == full:
        return count % TILE_WIDTH
    return 0


def tiles_for_size(size: int) -> Iterator[TileRef]:
    """Every hash tile of a tree of `size`, level by level, full tiles then the partial one."""
    level = 0
    while level_count(size, level) > 0:
        count = level_count(size, level)
        for index in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
            yield TileRef(level, index, tile_width(size, level, index))
        level += 1


def bundles_for_size(size: int) -> Iterator[TileRef]:
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        yield TileRef(None, index, tile_width(size, 0, index))


def split_hashes(data: bytes) -> list[bytes]:
    if len(data) % HASH_SIZE:
        raise TileError(f"tile of {len(data)} bytes is not a whole number of hashes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Each entry as a 2-byte big-endian length and its bytes."""
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(f"entry of {len(entry)} bytes exceeds {MAX_ENTRY_SIZE}")
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)


def decode_bundle(data: bytes) -> list[bytes]:
    entries: list[bytes] = []
    pos, end = 0, len(data)
    while pos < end:
        if pos + 2 > end:
            raise TileError("entry bundle: truncated length")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > end:
            raise TileError("entry bundle: truncated entry")
        entries.append(data[pos : pos + length])
        pos += length
    return entries


def root_from_edges(edges: Sequence[Sequence[bytes]]) -> bytes:
    """Tree hash from each level's right-edge partial tile (edges[l] = hashes of the partial tile at
    level l, possibly empty). The full subtrees of the tree are those of the partial tiles, highest
    level first, each split by the set bits of its width."""
    roots: list[bytes] = []
    for hashes in reversed(edges):
        if hashes:
            roots.extend(compact_roots(hashes))
    return fold_right(roots) if roots else EMPTY_ROOT


class TileBuilder:
    """The right edge of a tiled log: appends leaf hashes, emits each tile that changes.

    Holds at most 255 hashes per level, so integrating a batch costs memory in the batch size only,
    and the root needs no database reads."""

    def __init__(self, size: int = 0, edges: Sequence[Sequence[bytes]] = ()) -> None:
        self.size = size
        self.edges: list[list[bytes]] = [list(e) for e in edges]
        for level, hashes in enumerate(self.edges):
            if len(hashes) != partial_width(size, level):
                raise TileError(
                    f"edge tile at level {level} has {len(hashes)} hashes, expected {partial_width(size, level)}"
                )

    def extend(self, leaf_hashes: Iterable[bytes]) -> dict[tuple[int, int], bytes]:
        """Adds leaves; returns {(level, index): tile bytes} for every tile written or grown."""
        changed: dict[tuple[int, int], bytes] = {}
        for h in leaf_hashes:
            self._add(0, self.size >> 0, h, changed)
            self.size += 1
        for level, hashes in enumerate(self.edges):
            if hashes:
                index = level_count(self.size, level) // TILE_WIDTH
                changed[(level, index)] = b"".join(hashes)
        return changed

    def _add(self, level: int, position: int, h: bytes, changed: dict[tuple[int, int], bytes]) -> None:
        while True:
            if level == len(self.edges):
                self.edges.append([])
            edge = self.edges[level]
            edge.append(h)
            if len(edge) < TILE_WIDTH:
                return
            index = position // TILE_WIDTH
            changed[(level, index)] = b"".join(edge)
            h = perfect_root(edge)
            self.edges[level] = []
            level, position = level + 1, index

    def root(self) -> bytes:
        return root_from_edges(self.edges)
