"""Retention policies, pure: the packaged file, periods and due dates, jurisdictions, and refusals that
name the field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearguard.categories import DataCategory
from clearguard.retention.policy import Period, PolicyError, load_policies, parse_policies

PACKAGED = resources.files("clearguard.retention.policies").joinpath("default.yaml").read_text()


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_packaged_policies_load_and_cover_every_kind() -> None:
    policies = load_policies()
    assert policies.version == "2026.1"
    assert policies.jurisdiction_of("DE") == "EU" and policies.jurisdiction_of("GB") == "UK"
    assert policies.jurisdiction_of("US") == "US" and policies.jurisdiction_of("CH") is None
    assert len(policies.jurisdictions["EU"]) == 27


@pytest.mark.parametrize(
    ("country", "accepted", "policy", "due"),
    [
        # EU UCC Art. 51: 3 years from the end of the year of acceptance.
        ("DE", at(2026, 1, 2), "EU-UCC-ART51", date(2030, 1, 1)),
        ("NL", at(2026, 12, 31, 23), "EU-UCC-ART51", date(2030, 1, 1)),
        # UK: 4 years from the end of the year of acceptance.
        ("GB", at(2026, 5, 1), "UK-CEMA-4Y", date(2031, 1, 1)),
        # US 19 CFR 163.4: 5 years from entry, kept through the anniversary.
        ("US", at(2026, 5, 1), "US-19CFR163.4", date(2031, 5, 2)),
        # A country without a policy: the latest due date of any, never none.
        ("CH", at(2026, 5, 1), "US-19CFR163.4", date(2031, 5, 2)),
        ("CH", at(2026, 12, 30), "US-19CFR163.4", date(2031, 12, 31)),
    ],
)
def test_declarations_fall_due_by_jurisdiction(country: str, accepted: datetime, policy: str, due: date) -> None:
    policies = load_policies()
    found = policies.governing("declaration", DataCategory.PERSONAL, country, accepted)
    assert found.id == policy
    assert found.due(accepted) == datetime(due.year, due.month, due.day, tzinfo=UTC)


def test_biometric_records_are_due_to_the_hour() -> None:
    policy = load_policies().governing("traveller", DataCategory.BIOMETRIC, "GB", at(2026, 5, 1, 10))
    assert policy.due(at(2026, 5, 1, 10)) == at(2026, 5, 31, 10)


def test_ledger_commitments_are_kept() -> None:
    policy = load_policies().governing("ledger_commitment", DataCategory.CODE, "GB", at(2026, 5, 1))
    assert policy.period is None and policy.due(at(2026, 5, 1)) is None


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("P3Y", date(2024, 2, 29), date(2027, 2, 28)),  # no 29 February in 2027: its last day
        ("P4Y", date(2024, 2, 29), date(2028, 2, 29)),
        ("P1M", date(2026, 1, 31), date(2026, 2, 28)),
        ("P1Y6M", date(2026, 8, 31), date(2028, 2, 29)),
        ("P30D", date(2026, 12, 15), date(2027, 1, 14)),
        ("P0D", date(2026, 12, 15), date(2026, 12, 15)),
    ],
)
def test_periods(text: str, start: date, expected: date) -> None:
    period = Period.parse(text)
    assert period is not None and period.after(start) == expected


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 30), st.integers(0, 11))
def test_periods_never_run_backwards(start: date, years: int, months: int) -> None:
    later = Period(years, months, 0).after(start)
    assert later >= start
    assert (later.year * 12 + later.month) - (start.year * 12 + start.month) == years * 12 + months


@pytest.mark.parametrize("text", ["3 years", "P", "PT1H", "P-1Y", "P1W", "forever", ""])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period.parse(text)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("jurisdiction: UK\n", "jurisdiction: XX\n"), "policies[UK-CEMA-4Y].jurisdiction"),
        (("record: traveller", "record: passenger"), "record"),
        (("categories: [biometric, personal]", "categories: [biometric, secret]"), "categories"),
        (("start: entry\n", "start: arrival\n"), "start"),
        (("period: P30D", "period: 30 days"), "period"),
        (("period: P30D", "period: indefinite"), "period"),
        (("  UK: [GB]\n", "  UK: [GB, DE]\n"), "jurisdictions.UK"),
        (("  UK: [GB]\n", "  UK: [gb]\n"), "jurisdictions.UK"),
        (('version: "2026.1"', "version: 2026.1"), "version"),
    ],
)
def test_a_bad_policy_file_names_the_field(edit: tuple[str, str], field: str) -> None:
    text = PACKAGED.replace(*edit, 1)
    assert text != PACKAGED
    with pytest.raises(PolicyError) as refused:
        parse_policies(text, "policy.yaml")
    message = str(refused.value)
    assert field in message and message.startswith("policy.yaml: ") and "\n" not in message
    assert refused.value.exit_code == 2


def test_a_kind_left_without_policy_is_refused() -> None:
    start = PACKAGED.index("  - id: BIOMETRIC-30D")
    end = PACKAGED.index("  - id: AUDIT-7Y")
    with pytest.raises(PolicyError, match="traveller records of category biometric"):
        parse_policies(PACKAGED[:start] + PACKAGED[end:], "policy.yaml")


@pytest.mark.parametrize("text", ["", "- a list", "{unclosed", "policies: []"])
def test_unreadable_files_are_refused(text: str) -> None:
    with pytest.raises(PolicyError):
        parse_policies(text, "policy.yaml")
