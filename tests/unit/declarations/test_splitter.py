from typing import Any

from clearguard.declarations.splitter import compile_split

EXCLUDE: dict[str, Any] = {
    "party": {"name": True, "address": {"street": True}},
    "items": {"__all__": {"price": True, "docs": {"__all__": {"ref": True}}}},
    "tags": {"__all__": True},
}
INCLUDE: dict[str, Any] = {
    "party": {"name": True, "address": {"street": True}},
    "items": {"__all__": {"price": True, "docs": {"__all__": {"ref": True}}}},
    "tags": {"__all__": True},
}
DOC: dict[str, Any] = {
    "lrn": "A1",
    "party": {"name": "N", "address": {"street": "S", "country": "NL"}, "eori": "NL1"},
    "items": [{"price": "1.00", "code": "01", "docs": [{"code": "N935", "ref": "R"}]}, {"code": "02"}],
    "tags": ["a", "b"],
}


def test_drop_keeps_everything_the_exclusion_does_not_name() -> None:
    drop, _picks = compile_split(EXCLUDE, [])
    assert drop(DOC) == {
        "lrn": "A1",
        "party": {"address": {"country": "NL"}, "eori": "NL1"},
        "items": [{"code": "01", "docs": [{"code": "N935"}]}, {"code": "02"}],
        "tags": [],
    }


def test_pick_keeps_only_what_the_inclusion_names_and_lists_keep_their_length() -> None:
    _drop, [pick] = compile_split({}, [INCLUDE])
    assert pick(DOC) == {
        "party": {"name": "N", "address": {"street": "S"}},
        "items": [{"price": "1.00", "docs": [{"ref": "R"}]}, {}],
        "tags": ["a", "b"],
    }


def test_absent_parts_stay_absent_and_the_input_is_never_changed() -> None:
    drop, [pick] = compile_split(EXCLUDE, [INCLUDE])
    assert drop({"lrn": "A2"}) == {"lrn": "A2"} and pick({"lrn": "A2"}) == {}
    before = repr(DOC)
    _ = (drop(DOC), pick(DOC))
    assert repr(DOC) == before
