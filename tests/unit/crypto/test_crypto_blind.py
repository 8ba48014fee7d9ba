"""Blind indexes: keyed, kind-separated, normalised, idempotent."""

from __future__ import annotations

import pytest

from clearguard.crypto.blind import BlindIndexer, normalise_eori, normalise_name, normalise_party

KEY = b"k" * 32


def test_eori_normalisation() -> None:
    assert normalise_eori(" gb 123-456.789 000 ") == "GB123456789000"
    assert normalise_eori("GB123456789000") == "GB123456789000"
    with pytest.raises(ValueError):
        normalise_eori("123")


def test_name_normalisation() -> None:
    assert normalise_name("Müller-Lüdenscheidt,  Jörg") == "muller ludenscheidt jorg"
    assert normalise_name("MULLER LUDENSCHEIDT JORG") == "muller ludenscheidt jorg"
    assert normalise_name(normalise_name("Ada  O'Neil")) == normalise_name("Ada  O'Neil")


def test_party_normalisation() -> None:
    assert normalise_party("EORI:gb123456789000") == "eori:GB123456789000"
    assert normalise_party("person:abcdef") == "person:abcdef"
    with pytest.raises(ValueError):
        normalise_party("nocolon")


def test_index_equal_after_normalisation_and_kind_separated() -> None:
    idx = BlindIndexer(KEY)
    assert idx.index("eori", "gb 123456789000") == idx.index("eori", "GB123456789000")
    assert idx.index("name", "José  Núñez") == idx.index("name", "jose nunez")
    assert idx.index("document", "X") != idx.index("other", "X")
    assert len(idx.index("eori", "GB123456789000")) == 64


def test_index_depends_on_key() -> None:
    assert BlindIndexer(KEY).index("name", "a") != BlindIndexer(b"j" * 32).index("name", "a")


def test_bad_kind_and_key() -> None:
    with pytest.raises(ValueError):
        BlindIndexer(KEY).index("Bad Kind", "x")
    with pytest.raises(ValueError):
        BlindIndexer(b"short")
