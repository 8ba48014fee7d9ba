"""Keyed pseudonyms: stable under one key, unrelated across keys, kinds kept apart, keys checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearguard.sharing.errors import SharingInputError
from clearguard.sharing.pseudonyms import pseudonym

KEY_NL = bytes(range(32))
KEY_FR = bytes(range(1, 33))


def test_the_pseudonym_is_the_hmac_of_kind_zero_and_normalised_value() -> None:
    mac = hmac.new(KEY_NL, b"eori\x00GB123456789000", hashlib.sha256).digest()
    expected = "pn:" + base64.b32encode(mac).decode().rstrip("=").lower()
    assert pseudonym(KEY_NL, "eori", "GB123456789000") == expected
    assert len(expected) == 3 + 52


def test_stable_for_one_key_across_spellings() -> None:
    assert pseudonym(KEY_NL, "eori", "gb 123456789000") == pseudonym(KEY_NL, "eori", "GB123456789000")
    assert pseudonym(KEY_NL, "name", "  Jan   DE Vries ") == pseudonym(KEY_NL, "name", "jan de vries")
    assert pseudonym(KEY_NL, "name", "Straße") == pseudonym(KEY_NL, "name", "STRASSE")


def test_different_across_keys_and_values() -> None:
    assert pseudonym(KEY_NL, "eori", "GB123456789000") != pseudonym(KEY_FR, "eori", "GB123456789000")
    assert pseudonym(KEY_NL, "eori", "GB123456789000") != pseudonym(KEY_NL, "eori", "GB123456789001")


def test_kinds_are_kept_apart() -> None:
    assert pseudonym(KEY_NL, "name", "GB123456789000") != pseudonym(KEY_NL, "eori", "GB123456789000")
    assert pseudonym(KEY_NL, "person", "jan") != pseudonym(KEY_NL, "name", "jan")


def test_bad_keys_kinds_and_values_are_input_errors() -> None:
    for key in (b"", bytes(31), "k" * 32):
        with pytest.raises(SharingInputError, match="key"):
            pseudonym(key, "eori", "GB123456789000")  # type: ignore[arg-type]
    for kind in ("", "EORI", "eori\x00x", "a b"):
        with pytest.raises(SharingInputError, match="kind"):
            pseudonym(KEY_NL, kind, "GB123456789000")
    for kind, value in (("eori", "not an eori!"), ("name", "  "), ("name", "--")):
        with pytest.raises(SharingInputError, match="value") as caught:
            pseudonym(KEY_NL, kind, value)
        assert caught.value.exit_code == 2


@given(value=st.text(min_size=1, max_size=30).filter(lambda s: any(c.isalnum() for c in s)))
def test_no_collision_across_keys_for_any_name(value: str) -> None:
    one, other = secrets.token_bytes(32), secrets.token_bytes(32)
    assert pseudonym(one, "name", value) == pseudonym(one, "name", value)
    assert pseudonym(one, "name", value) != pseudonym(other, "name", value)
