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


def test_name_fast_path_agrees_with_the_general_rule() -> None:
    """Plain ASCII names skip the pattern; every ASCII string must still normalise as the pattern does."""
    import random
    import re
    import string

    def general(value: str) -> str:
        return " ".join(re.sub(r"[^\w]+", " ", value.casefold()).replace("_", " ").split())

    rng = random.Random(7)
    alphabet = string.printable + "\x1c\x1f"
    for _ in range(20_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert normalise_name(value) == general(value), repr(value)
    assert normalise_name("  Jane   DOE ") == "jane doe"


@pytest.mark.asvs("V11.4.1")
def test_index_is_hmac_of_kind_and_normalised_value() -> None:
    import hashlib
    import hmac

    idx = BlindIndexer(KEY)
    for kind, value, normalised in [("name", "Ada  O'Neil", "ada o neil"), ("document", " x ", "x")]:
        expected = hmac.new(KEY, kind.encode() + b"\x00" + normalised.encode(), hashlib.sha256).hexdigest()
        assert idx.index(kind, value) == expected
