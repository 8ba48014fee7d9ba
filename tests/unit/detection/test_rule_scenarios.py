"""Each shipped rule fires on a hand-built sequence of its scenario and stays quiet just under its
threshold (or outside its window, or on the benign variant of the scenario)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from clearguard.detection.events import ActivityEvent
from clearguard.detection.thresholds import DetectionConfig
from tests.unit.detection.support import (
    LONDON,
    MONDAY_10,
    NEW_YORK,
    PARIS,
    alerts,
    detector,
    ev,
    every,
    notices,
    run,
)

ATTACKER = "10.99.0.66"  # in no listed network: unknown location


def failures(n: int, step_s: float, *, actor: str = "officer-1", source: str = ATTACKER) -> list[ActivityEvent]:
    return [ev(t, actor, "auth.login", outcome="failure", source_ip=source) for t in every(MONDAY_10, n, step_s)]


# --- brute force -----------------------------------------------------------------------------------


def test_brute_force_on_one_account_fires_at_8_failures_in_120_s() -> None:
    found = run(failures(8, 15))  # 8 failures over 105 s
    hits = alerts(found, "brute_force_account")
    assert len(hits) == 1
    assert hits[0].kind == "brute_force" and hits[0].severity == "high"
    assert hits[0].actors == ("officer-1",) and hits[0].sources == (ATTACKER,)
    assert "8 failed sign-in steps on account officer-1 within 2 min" in hits[0].explanation


def test_brute_force_quiet_under_threshold_and_outside_window() -> None:
    assert alerts(run(failures(7, 15)), "brute_force_account") == []
    # 8 failures spread over 140 s: never 8 within 120 s
    assert alerts(run(failures(8, 20)), "brute_force_account") == []


def test_brute_force_from_one_source_across_accounts() -> None:
    events = [
        ev(t, f"acct-{i % 3}", "auth.login", outcome="failure", source_ip=ATTACKER)
        for i, t in enumerate(every(MONDAY_10, 8, 10))
    ]
    found = run(events)
    assert [f.rule for f in alerts(found, "brute_force_source")] == ["brute_force_source"]
    assert alerts(found, "brute_force_account") == []  # no single account had 8
    # the same failures from two addresses: neither has 8
    split = [
        ev(t, "acct-0", "auth.login", outcome="failure", source_ip=ATTACKER if i % 2 else "10.99.0.67")
        for i, t in enumerate(every(MONDAY_10, 8, 10))
    ]
    assert alerts(run(split), "brute_force_source") == []


# --- spraying ---------------------------------------------------------------------------------------


def test_password_spraying_more_than_5_accounts_from_one_source_in_10_minutes() -> None:
    sprayed = [
        ev(t, f"user-{i}", "auth.login", outcome="failure", source_ip=ATTACKER)
        for i, t in enumerate(every(MONDAY_10, 6, 90))
    ]
    found = run(sprayed)
    hits = alerts(found, "password_spraying")
    assert len(hits) == 1 and hits[0].sources == (ATTACKER,)
    assert set(hits[0].actors) == {f"user-{i}" for i in range(6)}
    assert "6 distinct accounts" in hits[0].explanation
    # 5 accounts is not more than 5; 6 accounts over 12.5 minutes is outside the window
    assert alerts(run(sprayed[:5]), "password_spraying") == []
    slow = [
        ev(t, f"user-{i}", "auth.login", outcome="failure", source_ip=ATTACKER)
        for i, t in enumerate(every(MONDAY_10, 6, 150))
    ]
    assert alerts(run(slow), "password_spraying") == []
    # many failures of ONE account from that source is not spraying
    assert alerts(run(failures(6, 90)), "password_spraying") == []


# --- failures followed by a success ----------------------------------------------------------------


def test_repeated_failures_then_success_is_an_alert() -> None:
    events = failures(5, 30)
    events.append(ev(MONDAY_10 + timedelta(minutes=4), "officer-1", "auth.login", source_ip=ATTACKER))
    found = run(events)
    hits = alerts(found, "failures_then_success")
    assert len(hits) == 1 and hits[0].actors == ("officer-1",)
    assert alerts(found, "brute_force_account") == []  # 5 is not a brute force


def test_one_failure_then_success_is_a_notice_not_an_alert() -> None:
    events = [
        ev(MONDAY_10, "officer-1", "auth.login", outcome="failure", source_ip=LONDON),
        ev(MONDAY_10 + timedelta(seconds=20), "officer-1", "auth.login", source_ip=LONDON),
    ]
    found = run(events)
    assert alerts(found) == []
    assert [f.rule for f in notices(found)] == ["failure_then_success"]


def test_success_before_failures_is_not_failures_then_success() -> None:
    events = [ev(MONDAY_10, "officer-1", "auth.login", source_ip=ATTACKER)]
    events += [
        ev(t, "officer-1", "auth.login", outcome="failure", source_ip=ATTACKER)
        for t in every(MONDAY_10 + timedelta(seconds=10), 5, 30)
    ]
    assert alerts(run(events), "failures_then_success") == []


def test_four_failures_then_success_is_only_a_notice() -> None:
    events = failures(4, 30)
    events.append(ev(MONDAY_10 + timedelta(minutes=3), "officer-1", "auth.login", source_ip=ATTACKER))
    found = run(events)
    assert alerts(found) == []
    assert notices(found, "failure_then_success")


# --- impossible travel -----------------------------------------------------------------------------


def test_impossible_travel_london_then_new_york_an_hour_later() -> None:
    events = [
        ev(MONDAY_10, "officer-1", "auth.login", source_ip=LONDON),
        ev(MONDAY_10 + timedelta(hours=1), "officer-1", "auth.login", source_ip=NEW_YORK),
    ]
    found = run(events)
    hits = alerts(found, "impossible_travel")
    assert len(hits) == 1
    assert "New York" in hits[0].explanation and "5570 km" in hits[0].explanation
    assert hits[0].sources == (NEW_YORK,)


def test_possible_travel_and_unknown_places_are_quiet() -> None:
    # London to Paris (344 km) in an hour is 344 km/h
    assert (
        alerts(
            run(
                [
                    ev(MONDAY_10, "officer-1", "auth.login", source_ip=LONDON),
                    ev(MONDAY_10 + timedelta(hours=1), "officer-1", "auth.login", source_ip=PARIS),
                ]
            )
        )
        == []
    )
    # London to New York in 8 hours is under 900 km/h
    assert (
        alerts(
            run(
                [
                    ev(MONDAY_10, "officer-1", "auth.login", source_ip=LONDON),
                    ev(MONDAY_10 + timedelta(hours=8), "officer-1", "auth.login", source_ip=NEW_YORK),
                ]
            )
        )
        == []
    )
    # an address in no listed network has no place: never impossible travel
    assert (
        alerts(
            run(
                [
                    ev(MONDAY_10, "officer-1", "auth.login", source_ip=LONDON),
                    ev(MONDAY_10 + timedelta(minutes=5), "officer-1", "auth.login", source_ip=ATTACKER),
                ]
            )
        )
        == []
    )


def test_failed_logins_from_far_away_do_not_move_the_account() -> None:
    events = [
        ev(MONDAY_10, "officer-1", "auth.login", source_ip=LONDON),
        ev(MONDAY_10 + timedelta(minutes=5), "officer-1", "auth.login", outcome="failure", source_ip=NEW_YORK),
        ev(MONDAY_10 + timedelta(minutes=10), "officer-1", "declaration.read", source_ip=LONDON),
    ]
    assert alerts(run(events), "impossible_travel") == []


# --- off hours, mass export, distinct parties and records ------------------------------------------


def reads(
    start_hour: int,
    n: int,
    *,
    actor: str = "officer-1",
    action: str = "declaration.read",
    count: int = 1,
    role: str = "officer",
    step_s: float = 30,
    party_of: Callable[[int], str] | None = None,
    record_of: Callable[[int], str] | None = None,
) -> list[ActivityEvent]:
    start = MONDAY_10.replace(hour=start_hour)
    return [
        ev(
            t,
            actor,
            action,
            role=role,
            count=count,
            party=party_of(i) if party_of else "GB000000000001",
            record=record_of(i) if record_of else f"26GB{i:014d}",
        )
        for i, t in enumerate(every(start, n, step_s))
    ]


def test_bulk_reads_or_exports_outside_working_hours() -> None:
    # Monday night, no history: the default working day (07:00-19:00) applies
    hits = alerts(run(reads(23, 200, step_s=15)), "off_hours_bulk_read")
    assert len(hits) == 1 and hits[0].kind == "off_hours_export"
    assert "200 distinct declarations read by officer-1 outside its usual hours" in hits[0].explanation
    assert alerts(run(reads(23, 199, step_s=15)), "off_hours_bulk_read") == []
    assert alerts(run(reads(10, 200, step_s=15)), "off_hours_bulk_read") == []  # the same at 10:00
    assert alerts(run(reads(20, 200, step_s=15)), "off_hours_bulk_read") == []  # 1 h after the day: overtime
    night_export = alerts(run(reads(2, 2, action="declaration.export", count=75)), "off_hours_bulk_export")
    assert len(night_export) == 1 and "150 declarations exported" in night_export[0].explanation
    assert alerts(run(reads(2, 1, action="declaration.export", count=149)), "off_hours_bulk_export") == []
    saturday = MONDAY_10 + timedelta(days=5)
    weekend = [ev(saturday, action="declaration.export", count=150)]
    assert alerts(run(weekend), "off_hours_bulk_export")


def test_mass_export_by_records_and_by_exports() -> None:
    assert alerts(run(reads(10, 4, action="declaration.export", count=250)), "mass_export_records")
    assert alerts(run(reads(10, 3, action="declaration.export", count=333)), "mass_export_records") == []
    assert alerts(run(reads(10, 30, action="declaration.export", count=1)), "mass_export_events")
    assert alerts(run(reads(10, 29, action="declaration.export", count=1)), "mass_export_events") == []


def test_officer_reading_many_distinct_parties_or_records() -> None:
    many_parties = reads(10, 40, party_of=lambda i: f"GB{i:012d}")
    hits = alerts(run(many_parties), "many_parties")
    assert len(hits) == 1 and hits[0].kind == "insider_bulk_read"
    assert "GB0000" not in hits[0].explanation  # parties are never named in an explanation
    assert alerts(run(reads(10, 39, party_of=lambda i: f"GB{i:012d}")), "many_parties") == []
    assert alerts(run(reads(10, 150, step_s=20)), "many_records")  # every read a distinct declaration
    assert alerts(run(reads(10, 149, step_s=20)), "many_records") == []
    # 150 distinct declarations over 75 minutes: never 150 within the hour
    assert alerts(run(reads(10, 150, step_s=30)), "many_records") == []
    # the same declaration read 150 times is not 150 distinct records
    assert alerts(run(reads(10, 150, step_s=20, record_of=lambda i: "26GB1")), "many_records") == []
    # a broker reading its many clients' declarations is its job
    assert alerts(run(reads(10, 60, role="broker", party_of=lambda i: f"GB{i:012d}"))) == []


# --- break-glass and privilege changes -------------------------------------------------------------


def test_breakglass_followed_by_reads_is_an_alert_one_breakglass_a_notice() -> None:
    glass = ev(MONDAY_10, "officer-1", "access.breakglass")
    found = run([glass, *reads(10, 17)[2:]])  # 15 reads, starting 1 min after
    assert [f.rule for f in alerts(found)] == ["breakglass_then_reads"]
    assert [f.rule for f in notices(found)] == ["breakglass_notice"]
    quiet = run([glass, *reads(10, 16)[2:]])  # 14 reads
    assert alerts(quiet) == [] and notices(quiet, "breakglass_notice")
    # the same reads with no break-glass before them
    assert alerts(run(reads(10, 17))) == []
    # reads more than the window after the break-glass
    late = [ev(MONDAY_10 - timedelta(hours=2), "officer-1", "access.breakglass"), *reads(10, 17)]
    assert alerts(run(late)) == []


def test_role_change_followed_by_use_of_new_rights() -> None:
    # officer-2 has a history of reads; an administrator changes its role; it then breaks glass
    history = [ev(MONDAY_10 - timedelta(days=1), "officer-2", "declaration.read")]
    change = ev(MONDAY_10, "admin-1", "account.role_change", role="administrator", record="officer-2")
    use = ev(MONDAY_10 + timedelta(minutes=20), "officer-2", "access.breakglass")
    found = run([*history, change, use])
    hits = alerts(found, "privilege_change_then_use")
    assert len(hits) == 1
    assert set(hits[0].actors) == {"admin-1", "officer-2"}
    assert notices(found, "role_change_notice")
    # a role change followed only by what the account always did: a notice, no alert
    usual = ev(MONDAY_10 + timedelta(minutes=20), "officer-2", "declaration.read")
    found = run([*history, change, usual])
    assert alerts(found) == [] and [f.rule for f in notices(found)] == ["role_change_notice"]
    # a new action with no role change before it
    assert alerts(run([*history, use])) == []
    # the new action after the window (8 h)
    late = ev(MONDAY_10 + timedelta(hours=9), "officer-2", "access.breakglass")
    assert alerts(run([*history, change, late]), "privilege_change_then_use") == []


@pytest.mark.parametrize("setting", ["brute_force_failures", "brute_force_window_s"])
def test_thresholds_come_from_configuration(setting: str) -> None:
    cfg = (
        DetectionConfig(brute_force_failures=3)
        if setting == "brute_force_failures"
        else DetectionConfig(brute_force_window_s=30)
    )
    events = failures(3, 10) if setting == "brute_force_failures" else failures(8, 15)
    found = run(events, detector(cfg))
    if setting == "brute_force_failures":
        assert alerts(found, "brute_force_account")  # 3 is now enough
    else:
        assert alerts(found, "brute_force_account") == []  # 8 in 105 s is not 8 in 30 s


def test_mass_export_is_measured_against_the_account_and_its_role() -> None:
    """An analyst who exports 1,500 records most days is not a mass export; the same analyst
    exporting 5,000 is; a new analyst exporting 1,500 is measured against its peers' habit."""
    det = detector()
    events: list[ActivityEvent] = []
    for d in range(12):
        day = MONDAY_10 + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for who in ("analyst-1", "analyst-2"):
            events.append(ev(day, who, "declaration.export", role="risk_analyst", count=1500 - 100 * (d % 3)))
    found = run(events, det)
    # with no history at all, anyone's first 1,500 is beyond habit; never again after that
    assert {f.first_at.date() for f in alerts(found)} == {MONDAY_10.date()}
    later = MONDAY_10 + timedelta(days=14)
    assert alerts(run([ev(later, "analyst-3", "declaration.export", role="risk_analyst", count=1500)], det)) == []
    big = run(
        [
            ev(later + timedelta(minutes=m), "analyst-1", "declaration.export", role="risk_analyst", count=1250)
            for m in range(4)
        ],
        det,
    )
    assert [f.rule for f in alerts(big)] == ["mass_export_records"]
    assert "analyst-1 exported 5000 declarations today, 3.3 times its usual busiest day" in alerts(big)[0].explanation
