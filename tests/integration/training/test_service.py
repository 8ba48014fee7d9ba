"""TrainingService on SQLite and PostgreSQL: recording (with its audit event), refusals that change
nothing, reminders, the self-audit's gaps, and the gate with its expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from clearguard.access.roles import Perm, Role
from clearguard.errors import Forbidden, NotFound
from clearguard.training import TrainingInputInvalid, TrainingRequired
from clearguard.wiring import Services
from tests.integration.training.env import add_account, completions, training_events, training_of, training_services

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def services(database_url_and_engine: tuple[str, Engine]) -> Iterator[Services]:
    url, engine = database_url_and_engine
    services = training_services(engine, url)
    for name, role in (
        ("olivia", Role.OFFICER), ("ana", Role.RISK_ANALYST), ("audrey", Role.AUDITOR), ("dora", Role.DPO),
        ("adam", Role.ADMIN), ("sec", Role.SECURITY), ("tom", Role.TRADER), ("bea", Role.BROKER),
        ("pat", Role.PARTNER),
    ):  # fmt: skip
        add_account(services, name, role, NOW)
    yield services
    services.close()


def principal(services: Services, username: str):  # type: ignore[no-untyped-def]
    return services.identity.account_principal(username)


def test_untrained_staff_are_refused_privileged_actions_and_recording_opens_them(services: Services) -> None:
    training = training_of(services)
    officer = principal(services, "olivia")
    with pytest.raises(TrainingRequired) as refused:
        training.gate(officer, Perm.DECLARATIONS_READ, NOW)
    assert refused.value.detail == "training required: course data-protection never recorded for olivia"
    assert refused.value.status == 403 and isinstance(refused.value, Forbidden)
    assert refused.value.type_uri == "urn:clearguard:problem:training-required"
    # Signing in and its own authenticators stay open.
    training.gate(officer, Perm.SELF, NOW)
    training.gate(officer, Perm.PUBLIC, NOW)
    # Traders, brokers and partners are outside the gate.
    for outsider in ("tom", "bea", "pat"):
        training.gate(principal(services, outsider), Perm.DECLARATIONS_READ, NOW)

    training.record(
        "olivia", "data-protection", TODAY - timedelta(days=3), TODAY + timedelta(days=362),
        certificate="DP-2026/0042", by="adam", role="admin", source="test", now=NOW,
    )  # fmt: skip
    training.gate(officer, Perm.DECLARATIONS_READ, NOW)  # at once: nothing cached


def test_every_privileged_role_is_gated(services: Services) -> None:
    training = training_of(services)
    for name in ("olivia", "ana", "audrey", "dora", "adam", "sec"):
        with pytest.raises(TrainingRequired, match=f"never recorded for {name}"):
            training.gate(principal(services, name), Perm.AUDIT_READ, NOW)


def test_training_lapses_on_its_expiry_day(services: Services) -> None:
    training = training_of(services)
    training.record(
        "dora", "data-protection", date(2025, 3, 1), date(2026, 3, 15), by="adam", role="admin", source="test", now=NOW
    )
    dora = principal(services, "dora")
    training.gate(dora, Perm.PRIVACY_MANAGE, datetime(2026, 3, 14, 23, 59, tzinfo=UTC))
    with pytest.raises(TrainingRequired) as refused:
        training.gate(dora, Perm.PRIVACY_MANAGE, datetime(2026, 3, 15, 0, 0, tzinfo=UTC))
    assert refused.value.detail == "training required: course data-protection expired on 2026-03-15 for dora"
    assert refused.value.extra == {"course": "data-protection", "training_status": "expired"}
    # A later completion counts, whatever order completions were recorded in.
    training.record(
        "dora", "data-protection", date(2026, 3, 1), date(2027, 3, 1), by="adam", role="admin", source="test", now=NOW
    )
    training.gate(dora, Perm.PRIVACY_MANAGE, datetime(2026, 3, 15, tzinfo=UTC))


def test_security_awareness_is_recorded_but_gates_nothing(services: Services) -> None:
    training = training_of(services)
    training.record(
        "sec", "security-awareness", TODAY, TODAY + timedelta(days=365), by="adam", role="admin", source="t", now=NOW
    )
    with pytest.raises(TrainingRequired, match="data-protection never recorded"):
        training.gate(principal(services, "sec"), Perm.DETECTION_ALERTS, NOW)


def test_recording_is_an_audit_event(services: Services) -> None:
    training = training_of(services)
    done = training.record(
        "audrey", "data-protection", TODAY, TODAY + timedelta(days=365),
        certificate="DP-77", by="adam", role="admin", source="198.51.100.7", now=NOW,
    )  # fmt: skip
    assert done.username == "audrey" and done.recorded_by == "adam" and done.certificate == "DP-77"
    [event] = training_events(services)
    assert (event.actor, event.role, event.record_type, event.record_id) == ("adam", "admin", "account", "audrey")
    assert event.details == {
        "course": "data-protection", "completed": "2026-03-01", "expires": "2027-03-01", "certificate": "DP-77",
    }  # fmt: skip
    assert event.ledger_index is not None  # entered in the ledger like every audit event
    assert [c.to_dict()["certificate"] for c in training.list("audrey")] == ["DP-77"]
    assert training.list("olivia") == []


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"course_slug": "first-aid"}, TrainingInputInvalid, "course"),
        ({"completed": TODAY + timedelta(days=1)}, TrainingInputInvalid, "completed"),
        ({"expires": TODAY - timedelta(days=10)}, TrainingInputInvalid, "expires"),
        ({"expires": TODAY - timedelta(days=5)}, TrainingInputInvalid, "expires"),  # equal to completed
        ({"certificate": "DP<script>"}, TrainingInputInvalid, "certificate"),
        ({"certificate": "x" * 129}, TrainingInputInvalid, "certificate"),
        ({"username": "nobody"}, NotFound, "username"),
        ({"username": "nul\x00byte"}, TrainingInputInvalid, "username"),
        ({"by": "olivia"}, Forbidden, "username"),  # nobody records their own training
    ],
)
def test_refused_records_change_nothing(
    services: Services, change: dict[str, object], error: type[Exception], field: str
) -> None:
    args: dict[str, object] = {
        "username": "olivia", "course_slug": "data-protection", "completed": TODAY - timedelta(days=5),
        "expires": TODAY + timedelta(days=360), "certificate": None, "by": "adam",
    } | change  # fmt: skip
    with pytest.raises(error) as refused:
        training_of(services).record(
            str(args["username"]), str(args["course_slug"]), args["completed"], args["expires"],  # type: ignore[arg-type]
            certificate=args["certificate"], by=str(args["by"]), role="admin", source="test", now=NOW,  # type: ignore[arg-type]
        )  # fmt: skip
    assert getattr(refused.value, "field", None) == field
    assert completions(services) == 0 and training_events(services) == []


def test_due_and_the_privileged_gaps(services: Services) -> None:
    training = training_of(services)

    def rec(user: str, course: str, expires: date) -> None:
        training.record(user, course, date(2025, 1, 1), expires, by="root", role="admin", source="t", now=NOW)

    for user in ("ana", "adam", "sec"):
        rec(user, "data-protection", TODAY + timedelta(days=400))
    rec("audrey", "data-protection", TODAY - timedelta(days=1))  # expired yesterday
    rec("dora", "data-protection", TODAY + timedelta(days=10))  # expiring
    rec("tom", "security-awareness", TODAY + timedelta(days=20))  # a trader's own course, expiring
    rec("ana", "security-awareness", TODAY - timedelta(days=3))  # expired, but gates nothing

    gaps = {(g.username, g.course): g for g in training.privileged_gaps(NOW)}
    assert {k: g.status for k, g in gaps.items()} == {
        ("olivia", "data-protection"): "missing",
        ("audrey", "data-protection"): "expired",
        ("dora", "data-protection"): "expiring",
    }
    assert gaps[("olivia", "data-protection")].role == "officer"
    assert gaps[("audrey", "data-protection")].reason.startswith("course data-protection expired on 2026-02-28")
    assert "in 10 days" in gaps[("dora", "data-protection")].reason

    due = [(g.username, g.course, g.status) for g in training.due(NOW)]
    assert due == [
        ("olivia", "data-protection", "missing"),
        ("ana", "security-awareness", "expired"),
        ("audrey", "data-protection", "expired"),
        ("dora", "data-protection", "expiring"),
        ("tom", "security-awareness", "expiring"),
    ]
    # A shorter reminder period leaves out what expires later; a bad one names the field.
    assert [(g.username, g.status) for g in training.due(NOW, within_days=5) if g.status == "expiring"] == []
    with pytest.raises(TrainingInputInvalid) as refused:
        training.due(NOW, within_days=-1)
    assert refused.value.field == "within"


def test_gate_operator_gates_named_staff_accounts_only(services: Services) -> None:
    training = training_of(services)
    training.gate_operator("cli:root", Perm.PRIVACY_MANAGE, NOW)  # the server's operator: no account
    training.gate_operator("tom", Perm.DECLARATIONS_LODGE, NOW)
    with pytest.raises(TrainingRequired, match="never recorded for dora"):
        training.gate_operator("dora", Perm.PRIVACY_MANAGE, NOW)
