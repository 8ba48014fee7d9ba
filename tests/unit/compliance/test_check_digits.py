"""ISO 6346 check digits: known ids, an independent reference computation, and error detection."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearguard.compliance.reference import container_id_problem, iso6346_check_digit

# ISO 6346 letter values: A=10, then upwards skipping 11, 22 and 33 (written out, not computed, so
# the table under test is checked against the standard rather than against itself)
LETTER_TABLE = "A10 B12 C13 D14 E15 F16 G17 H18 I19 J20 K21 L23 M24 N25 O26 P27 Q28 R29 S30 T31 U32 V34 W35 X36 Y37 Z38"
LETTER_VALUES = {entry[0]: int(entry[1:]) for entry in LETTER_TABLE.split()}
VALUES = {**{d: int(d) for d in string.digits}, **LETTER_VALUES}

owner = st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3)
category = st.sampled_from("UJZ")
serial = st.text(alphabet=string.digits, min_size=6, max_size=6)
alphanumeric = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=40)


def reference_remainder(text: str) -> int:
    return sum(VALUES[c] << i for i, c in enumerate(text)) % 11


# CSQU3054383 is the worked example of ISO 6346 (and of the H1 example file)
@pytest.mark.parametrize("container_id", ["CSQU3054383"])
def test_known_valid_container_ids(container_id: str) -> None:
    assert iso6346_check_digit(container_id[:10]) == int(container_id[10])
    assert container_id_problem(container_id) is None


@given(alphanumeric)
def test_matches_the_reference_computation(text: str) -> None:
    assert iso6346_check_digit(text) == reference_remainder(text) % 10


@given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=17, max_size=17))
def test_mrn_length_text_gives_a_digit(text: str) -> None:
    assert 0 <= iso6346_check_digit(text) <= 9


@pytest.mark.parametrize("text", ["", "csqu305438", "CSQU 305438", "CSQU-305438", "ÄBCU305438"])
def test_refuses_other_characters(text: str) -> None:
    with pytest.raises(ValueError):
        iso6346_check_digit(text)


@given(owner, category, serial)
def test_generated_ids_with_their_digit_are_valid(o: str, c: str, s: str) -> None:
    body = o + c + s
    assert container_id_problem(body + str(iso6346_check_digit(body))) is None


@given(owner, category, serial, st.data())
def test_any_single_character_change_is_detected(o: str, c: str, s: str, data: st.DataObject) -> None:
    """Any one changed character is caught, within what ISO 6346 can catch.

    The sum is taken modulo 11, so a substitution is invisible exactly when the two characters'
    values differ by a multiple of 11 (letters A/K/U, B/L, ...); and the remainder 10 is written
    as 0, which ISO 6346 avoids by not issuing serial numbers whose remainder is 10. Any other
    single change (every digit change in the serial or check digit included) is detected.
    """
    body = o + c + s
    remainder = reference_remainder(body)
    valid = body + str(remainder % 10)
    position = data.draw(st.integers(0, 10))
    alphabet = string.digits if position >= 4 else ("UJZ" if position == 3 else string.ascii_uppercase)
    replacement = data.draw(st.sampled_from([ch for ch in alphabet if ch != valid[position]]))
    changed = valid[:position] + replacement + valid[position + 1 :]
    if position == 10:
        assert container_id_problem(changed) is not None  # a different check digit never matches
        return
    changed_remainder = reference_remainder(changed[:10])
    blind = changed_remainder == remainder or {remainder, changed_remainder} == {0, 10}
    assert (container_id_problem(changed) is None) == blind
    if position >= 4 and remainder != 10 and {remainder, changed_remainder} != {0, 10}:
        assert not blind  # serial digits: every change is caught


def test_known_blind_spot_letters_eleven_apart() -> None:
    # A (10) and K (21) weigh the same modulo 11: ISO 6346 cannot tell these owner codes apart
    assert iso6346_check_digit("AAAU123456") == iso6346_check_digit("KAAU123456")
