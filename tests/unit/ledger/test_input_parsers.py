"""The parsers of what anyone may send the public ledger endpoints (tile paths, checkpoint notes,
add-checkpoint bodies) refuse every input with their own error, never another exception: Python's
int() raises ValueError past 4,300 digits, so unbounded digit runs used to become 500s."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from clearguard.ledger.checkpoint import parse_checkpoint
from clearguard.ledger.errors import NoteError, TileError
from clearguard.ledger.note import Ed25519Signer, sign_note
from clearguard.ledger.tiles import TileRef, entries_path, parse_tile_path, tile_path
from clearguard.ledger.witness import WitnessError, parse_add_checkpoint, peek_origin

ROOT_B64 = "A" * 43 + "="
digits = st.text(alphabet="0123456789", min_size=1, max_size=6000)
path_text = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda lvl, groups, last: f"tile/{lvl}/" + "".join(f"x{g}/" for g in groups) + last,
        digits,
        st.lists(st.text(alphabet="0123456789", min_size=3, max_size=3), max_size=1600),
        st.text(alphabet="0123456789.p/", max_size=12),
    ),
    st.builds(lambda n: f"tile/entries/{n}", digits),
)


@settings(max_examples=400, deadline=None)
@given(path_text)
def test_tile_paths_parse_or_raise_tile_error(path: str) -> None:
    try:
        ref = parse_tile_path(path)
    except TileError:
        return
    assert ref.path() == path and 0 <= ref.index < 2**64


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**64 - 1), st.one_of(st.none(), st.integers(0, 63)), st.integers(1, 256))
def test_every_canonical_tile_path_round_trips(index: int, level: int | None, width: int) -> None:
    ref = TileRef(level, index, width)
    assert parse_tile_path(ref.path()) == ref


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/" + "x123/" * 1500 + "000",  # 4,503 digits
        "tile/" + "1" * 5000 + "/000",
        "tile/entries/" + "x999/" * 6 + "999",  # 21 digits: past 2**64
        tile_path(0, 2**64 - 1).replace("x018", "x999"),
        "tile/64/000",
        entries_path(0) + ".p/0",
    ],
    ids=["4503-digit-index", "5000-digit-level", "21-digits", "past-2**64", "level-64", "width-0"],
)
def test_oversized_tile_paths_are_tile_errors(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


def _note(body: str) -> str:
    return sign_note(body, [Ed25519Signer("log.test", Ed25519PrivateKey.generate())])


@settings(max_examples=300, deadline=None)
@given(st.one_of(digits, st.text(max_size=40)), st.text(max_size=30))
def test_checkpoint_bodies_parse_or_raise_note_error(size_line: str, origin: str) -> None:
    try:
        checkpoint = parse_checkpoint(f"{origin}\n{size_line}\n{ROOT_B64}\n")
    except NoteError:
        return
    assert 0 <= checkpoint.size < 2**64


@settings(max_examples=300, deadline=None)
@given(st.one_of(digits, st.text(max_size=30)), st.lists(st.text(max_size=50), max_size=4), st.binary(max_size=300))
def test_add_checkpoint_bodies_parse_or_raise_witness_error(old: str, lines: list[str], tail: bytes) -> None:
    body = ("old " + old + "\n" + "".join(line + "\n" for line in lines) + "\n").encode() + tail
    try:
        request = parse_add_checkpoint(body)
        peek_origin(request.note)
    except WitnessError as exc:
        assert 400 <= exc.http_status < 500
        return
    assert 0 <= request.old_size < 2**64


def test_5000_digit_sizes_are_refused_as_bad_requests() -> None:
    huge = "9" * 5000
    small = _note("log.test\n1\n" + ROOT_B64 + "\n")
    with pytest.raises(WitnessError) as old:
        parse_add_checkpoint(("old " + huge + "\n\n" + small).encode())
    assert old.value.http_status == 400
    big = _note("log.test\n" + huge + "\n" + ROOT_B64 + "\n")
    request = parse_add_checkpoint(("old 0\n\n" + big).encode())
    with pytest.raises(WitnessError) as size:
        peek_origin(request.note)
    assert size.value.http_status == 400
    with pytest.raises(WitnessError, match="64 bits"):
        parse_add_checkpoint((f"old {2**64}\n\n" + small).encode())
    with pytest.raises(NoteError, match="64 bits"):
        parse_checkpoint(f"log.test\n{2**64}\n{ROOT_B64}\n")
    assert parse_checkpoint(f"log.test\n{2**64 - 1}\n{ROOT_B64}\n").size == 2**64 - 1
