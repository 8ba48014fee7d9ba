"""The verifier against a brute-force count, and against releases broken by hand."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from clearguard.sharing.anonymity_check import verify_csv

QI = ["hs_code", "date", "statistical_value"]


def table(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header or [*QI, "procedure"])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def brute_force(rows: list[list[str]]) -> tuple[int, int]:
    """k: for every row, how many rows share all its quasi-identifier values; l: for every row, how
    many distinct sensitive values those rows hold. Quadratic on purpose: nothing shared with the
    verifier's dictionaries."""
    k = min(sum(1 for other in rows if other[:3] == row[:3]) for row in rows)
    l = min(len({other[3] for other in rows if other[:3] == row[:3]}) for row in rows)  # noqa: E741
    return k, l


cell = st.sampled_from(["a", "b", "*", "x,y", 'q"uote', "ü", ""])
band = st.sampled_from(["[0,500)", "[500,1000)", "[8000,inf)", "*", "unknown"])
row = st.tuples(cell, cell, band, st.sampled_from(["4000", "4200", "0000", "=1+1"])).map(list)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=40), k=st.integers(2, 6), l=st.integers(1, 3))
def test_verifier_agrees_with_brute_force(rows: list[list[str]], k: int, l: int) -> None:  # noqa: E741
    verdict = verify_csv(
        table(rows), quasi_identifiers=QI, sensitive="procedure", k=k, l=l, banded=["statistical_value"]
    )
    expected_k, expected_l = brute_force(rows)
    assert (verdict.k, verdict.l) == (expected_k, expected_l)
    assert verdict.rows == len(rows)
    assert verdict.ok == (expected_k >= k and expected_l >= l)
    assert verdict.smallest_class["size"] == expected_k
    assert verdict.least_diverse_class["distinct"] == expected_l


GOOD = [
    ["85", "2026-01", "[0,500)", "4000"],
    ["85", "2026-01", "[0,500)", "4200"],
    ["85", "2026-01", "[0,500)", "4000"],
    ["64", "2026-01", "[500,1000)", "4000"],
    ["64", "2026-01", "[500,1000)", "4200"],
    ["64", "2026-01", "[500,1000)", "4200"],
]


def check(data: bytes, k: int = 3, l: int = 2) -> list[str]:  # noqa: E741
    verdict = verify_csv(data, quasi_identifiers=QI, sensitive="procedure", k=k, l=l, banded=["statistical_value"])
    assert verdict.ok == (not verdict.problems)
    return verdict.problems


def test_a_good_table_passes() -> None:
    assert check(table(GOOD)) == []


def test_one_row_changed_drops_a_class_below_k() -> None:
    broken = [list(r) for r in GOOD]
    broken[0][0] = "84"  # one line moved to a class of its own
    problems = check(table(broken))
    assert any(p.startswith("k: the smallest class has 1 row(s)") for p in problems), problems


def test_one_sensitive_value_changed_drops_a_class_below_l() -> None:
    broken = [list(r) for r in GOOD]
    broken[1][3] = "4000"
    problems = check(table(broken))
    assert problems == ["l: the least diverse class has 1 distinct sensitive value(s), fewer than l = 2"]


def test_an_exact_confidential_value_is_refused() -> None:
    broken = [list(r) for r in GOOD]
    broken[0][2] = "437.25"
    problems = check(table(broken))
    assert any(p.startswith("statistical_value: line 2 is not a band") for p in problems), problems
    assert "437.25" not in " ".join(problems)  # the verifier's message does not repeat the value


def test_an_undeclared_column_is_refused() -> None:
    data = table([[*r, "GB123456789000"] for r in GOOD], header=[*QI, "procedure", "declarant"])
    assert check(data)[0].startswith("csv: header")


def test_ragged_rows_and_odd_bytes_are_refused() -> None:
    assert any("has 3 fields" in p for p in check(table([*GOOD, ["85", "2026-01", "[0,500)"]])))
    assert check(b"\xff\xfe" + table(GOOD)) == ["csv: unreadable (UnicodeDecodeError)"]
    assert check(table([])) == ["csv: no rows to release"]
    assert check(b"")[0].startswith("csv: header")
