"""The generaliser: hierarchies, the lattice search against brute force, suppression bounds,
determinism, and every release it makes passing the independent verifier."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearguard.sharing import anonymity
from clearguard.sharing.anonymity import (
    AnonymityError,
    DateHierarchy,
    HsHierarchy,
    PlaceHierarchy,
    anonymise,
    band_hierarchy,
    country_hierarchy,
    nice_width,
)
from clearguard.sharing.anonymity_check import verify_csv
from clearguard.sharing.release import to_csv


def test_hierarchies() -> None:
    hs = HsHierarchy()
    assert [hs.label("8517130000", level) for level in range(4)] == ["851713", "8517", "85", "*"]
    dates = DateHierarchy()
    assert [dates.label("2026-05-17", level) for level in range(5)] == [
        "2026-05-17", "2026-05", "2026-Q2", "2026", "*",
    ]  # fmt: skip
    office = PlaceHierarchy()
    assert [office.label("GB000060", level) for level in range(4)] == ["GB000060", "GB", "Europe", "*"]
    country = country_hierarchy()
    assert [country.label("VN", level) for level in range(3)] == ["VN", "Asia", "*"]
    assert country.label("ZZ", 1) == "other" and country.label(None, 0) == "unknown" and country.label(None, 2) == "*"


def test_bands_nest_double_and_top_code() -> None:
    values = [Decimal(v) for v in ("3", "250", "499.99", "500", "1200", "7999", "9000", "2500000", *["800"] * 12)]
    bands = band_hierarchy("statistical_value", values, exact_allowed=False)
    assert bands.lowest == 1 and bands.meanings[0] == "exact" and bands.top == 5
    width = bands.width
    assert width == nice_width(values) and 16 * width >= sorted(values)[int(0.9 * len(values)) - 1]
    for value in values:
        for level in range(1, 4):
            fine, coarse = bands.label(value, level), bands.label(value, level + 1)
            if coarse.endswith("inf)"):
                assert fine == coarse  # the top-coded band is the same on every level
                continue
            lo, hi = (Decimal(x) for x in fine[1:-1].split(","))
            clo, chi = (Decimal(x) for x in coarse[1:-1].split(","))
            assert clo <= lo < hi <= chi and chi - clo == 2 * (hi - lo)  # nested, twice as wide
            assert lo <= value < hi
    assert bands.label(Decimal("2500000"), 1) == f"[{16 * width:f},inf)" == "[8000,inf)"
    assert bands.label(None, 1) == "unknown"
    with pytest.raises(AnonymityError) as caught:
        bands.label("NaN", 1)
    assert caught.value.field == "statistical_value"


def test_nice_width_is_a_one_two_five_number() -> None:
    assert nice_width([Decimal(1000)] * 10) == Decimal("100")  # 1000 / 16 = 62.5 -> 100
    assert nice_width([Decimal("0.3")] * 10) == Decimal("0.02")
    assert nice_width([]) == Decimal(1)


def lines(n: int, seed: int) -> list[dict[str, Any]]:
    """Declaration lines with the skew of real trade: a few chapters and countries dominate."""
    rng = random.Random(seed)
    chapters = ["85", "84", "61", "62", "39", "94", "73", "64", "90", "30"]
    out = []
    for _ in range(n):
        chapter = rng.choices(chapters, weights=[30, 20, 10, 10, 8, 7, 5, 4, 3, 3])[0]
        out.append(
            {
                "hs_code": chapter + f"{rng.randrange(1, 30):02d}" + f"{rng.randrange(0, 99):02d}",
                "date": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "statistical_value": Decimal(int(rng.lognormvariate(8, 1.5) * 100)) / 100,
                "net_mass": Decimal(int(rng.lognormvariate(5, 2) * 1000)) / 1000,
                "office": rng.choice(["NL000396", "NL000510", "DE004850", "BE212000", "GB000060"]),
                "origin_country": rng.choices(["CN", "US", "VN", "TR", "BR", "IN"], weights=[40, 15, 15, 10, 10, 10])[
                    0
                ],
                "dispatch_country": rng.choice(["CN", "US", "NL", None]),
                "procedure": rng.choices(["4000", "4200", "4071", "5100"], weights=[60, 25, 10, 5])[0],
                "transport_mode": rng.choice(["1", "3", "4", None]),
            }
        )
    return out


def verdict_of(table: anonymity.Anonymised) -> Any:
    return verify_csv(
        to_csv(table),
        quasi_identifiers=table.quasi_identifiers,
        sensitive=table.sensitive,
        k=table.k,
        l=table.l,
        banded=["statistical_value"],
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(8, 300),
    seed=st.integers(0, 10_000),
    k=st.integers(2, 8),
    l=st.integers(1, 3),
    quasi=st.lists(st.sampled_from(anonymity.QUASI_IDENTIFIERS), min_size=1, max_size=4, unique=True),
)
def test_every_release_passes_the_verifier(n: int, seed: int, k: int, l: int, quasi: list[str]) -> None:  # noqa: E741
    data = lines(n, seed)
    if l > k:
        l = k  # noqa: E741
    try:
        table = anonymise(data, k=k, l=l, sensitive="procedure", quasi_identifiers=quasi)
    except AnonymityError as exc:
        assert exc.field in {"k", "l"}
        return
    verdict = verdict_of(table)
    assert verdict.ok, verdict.problems
    assert verdict.k >= k and verdict.l >= l
    assert len(table.rows) + table.suppressed == n
    assert table.suppressed <= int(0.05 * n)
    if "statistical_value" in quasi:
        assert table.levels["statistical_value"]["level"] >= 1  # never exact


def brute_minimal(table: anonymity._Table, ranges: list[range], k: int, l: int, limit: int) -> set[tuple[int, ...]]:  # noqa: E741
    satisfying = {
        node for node in itertools.product(*ranges) if anonymity._evaluate(table, node, k, l, limit).satisfies
    }
    return {
        node
        for node in satisfying
        if not any(other != node and all(a <= b for a, b in zip(other, node, strict=True)) for other in satisfying)
    }


@pytest.mark.parametrize("seed", range(6))
def test_the_search_finds_exactly_the_minimal_nodes(seed: int) -> None:
    data = lines(120, seed)
    names = ["hs_code", "date", "office", "origin_country"]
    hierarchies = anonymity.hierarchies_for(data, names)
    table = anonymity._Table(data, names, hierarchies, [d["procedure"] for d in data])
    ranges = [range(hierarchies[n].lowest, hierarchies[n].top + 1) for n in names]
    k, l, limit = 3 + seed % 3, 1 + seed % 2, 6  # noqa: E741
    _seen, minimal = anonymity._minimal_nodes(table, ranges, k, l, limit)
    assert {ev.node for ev in minimal} == brute_minimal(table, ranges, k, l, limit)
    chosen = anonymise(data, k=k, l=l, sensitive="procedure", quasi_identifiers=names)
    assert chosen.node in {ev.node for ev in minimal}
    # The search evaluates far fewer nodes than the lattice holds.
    assert chosen.nodes_evaluated < chosen.lattice_size


def test_suppression_stays_within_its_bound() -> None:
    data = lines(400, 7)
    # A few outliers: unique chapters far from the rest. They are suppressed, not allowed to force
    # the whole table up the hierarchy.
    for i, line in enumerate(data[:8]):
        line["hs_code"] = f"0{i + 1}0101"
    table = anonymise(data, k=5, l=2, sensitive="procedure", quasi_identifiers=["hs_code"])
    assert table.suppressed == 8 and table.max_suppressed == 20
    assert table.levels["hs_code"]["meaning"] == "HS chapter (2 digits)"
    strict = anonymise(data, k=5, l=2, sensitive="procedure", quasi_identifiers=["hs_code"], max_suppression=0)
    assert strict.suppressed == 0 and len(strict.rows) == 400
    assert strict.levels["hs_code"]["meaning"] == "*" and strict.information_loss > table.information_loss
    assert verdict_of(strict).ok


def test_deterministic_and_blind_to_input_order() -> None:
    data = lines(300, 11)
    first = anonymise(data, k=5, l=2, sensitive="procedure")
    shuffled = list(data)
    random.Random(3).shuffle(shuffled)
    second = anonymise(shuffled, k=5, l=2, sensitive="procedure")
    assert to_csv(first) == to_csv(second)
    assert first.node == second.node and first.information_loss == second.information_loss
    assert first.rows == sorted(first.rows, key=lambda r: tuple(r[c] for c in first.columns))


def test_the_confidential_value_never_leaves_exact() -> None:
    data = lines(200, 5)
    table = anonymise(data, k=2, l=1, sensitive="procedure", quasi_identifiers=["statistical_value"])
    assert table.levels["statistical_value"]["level"] >= 1
    exact = {str(line["statistical_value"]) for line in data}
    assert not exact & {row["statistical_value"] for row in table.rows}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k": 1, "l": 1, "sensitive": "procedure"}, "k"),
        ({"k": 5, "l": 0, "sensitive": "procedure"}, "l"),
        ({"k": 3, "l": 4, "sensitive": "procedure"}, "l"),
        ({"k": 5, "l": 2, "sensitive": "statistical_value"}, "sensitive"),
        ({"k": 5, "l": 2, "sensitive": "no_such_field"}, "lines"),
        ({"k": 500, "l": 2, "sensitive": "procedure"}, "k"),
        ({"k": 5, "l": 5, "sensitive": "procedure"}, "l"),  # four procedures only
    ],
)
def test_refusals_name_the_cause(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(AnonymityError) as caught:
        anonymise(lines(100, 1), **kwargs)
    assert caught.value.field == field


def test_bad_values_are_refused_naming_the_field() -> None:
    data = lines(50, 2)
    data[3]["hs_code"] = "85x713"
    with pytest.raises(AnonymityError) as caught:
        anonymise(data, k=2, l=1, sensitive="procedure")
    assert caught.value.field == "hs_code"
    data = lines(50, 2)
    data[3]["date"] = "yesterday"
    with pytest.raises(AnonymityError) as caught:
        anonymise(data, k=2, l=1, sensitive="procedure")
    assert caught.value.field == "date"


def release_of(table: anonymity.Anonymised) -> Any:
    from datetime import UTC, datetime

    from clearguard.sharing.release import build_release

    now = datetime(2026, 12, 1, tzinfo=UTC)
    return build_release(table, agreement="AGR-1", since=now, until=now, categories={}, created_at=now)


def test_a_table_broken_after_the_generaliser_is_not_released() -> None:
    from clearguard.sharing.release import ReleaseRefused

    table = anonymise(lines(300, 4), k=5, l=2, sensitive="procedure")
    assert release_of(table).verdict.ok
    table.rows[0] = dict(table.rows[0], hs_code="999999")  # one line moved to a class of its own
    with pytest.raises(ReleaseRefused) as caught:
        release_of(table)
    assert caught.value.verdict.k == 1 and "k: the smallest class has 1 row(s)" in str(caught.value)


def test_odd_sensitive_values_survive_the_csv() -> None:
    import csv
    import io

    data = lines(200, 9)
    odd = ["=HYPERLINK(1)", "a,b", 'say "hi"', "line\nbreak", "ü€", "+1", "-2"]
    for i, line in enumerate(data):
        line["procedure"] = odd[i % len(odd)]
    table = anonymise(data, k=5, l=3, sensitive="procedure", quasi_identifiers=["hs_code", "office"])
    release = release_of(table)
    assert release.verdict.ok and release.verdict.l >= 3
    cells = {row["procedure"] for row in csv.DictReader(io.StringIO(release.csv.decode(), newline=""))}
    # Formula-like cells are neutralised as text; the rest round-trip exactly.
    assert cells == {"'=HYPERLINK(1)", "a,b", 'say "hi"', "line\nbreak", "ü€", "'+1", "'-2"}
