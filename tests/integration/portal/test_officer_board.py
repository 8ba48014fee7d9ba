"""The officer's page data on both databases: the office's queue ordered by risk, reasons, decisions,
break-glass and control outcomes, through the gate and services exactly as the API (same policy,
redaction and audit events)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clearguard.audit.service import AuditQuery
from clearguard.db import transaction
from clearguard.errors import ClearGuardError, Forbidden, InputError, NotFound
from clearguard.portal.boards import officer
from clearguard.risk.errors import OutcomeConflict
from clearguard.risk.kcs import parse_kcs
from clearguard.risk.record import RiskRecord
from tests.helpers import SHARED
from tests.integration.api.app_env import OTHER_GB_OFFICE, RealApp, make_real_app
from tests.integration.portal.board_env import gate_of, principal, services_of, today

SOURCE = "portal-test"


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def kcs_lines(n: int) -> list[RiskRecord]:
    with (SHARED / "data" / "kcs" / "train.csv").open(encoding="utf-8", newline="") as handle:
        return parse_kcs(handle).records[:n]


def audit_actions(real: RealApp, action: str) -> list[str | None]:
    services = services_of(real)
    with services.session_factory() as session:
        return [e.record_id for e in services.audit.query(session, AuditQuery(action=action))]


def test_queue_holds_only_the_office_ordered_by_risk_score(real: RealApp) -> None:
    services = services_of(real)
    own = [real.seed("gb") for _ in range(3)]
    elsewhere = real.seed("gb", office=OTHER_GB_OFFICE)
    # Recorded risk decisions with scores: a model trained on KCS history scores each MRN's items.
    lines = kcs_lines(4003)
    with transaction(services.session_factory) as session:
        services.risk.import_history(session, lines[:4000])
        services.risk.train(session)
    with transaction(services.session_factory) as session:
        for mrn, line in zip([*own, elsewhere], lines[3990:3994], strict=True):
            services.risk.assess(session, [RiskRecord(**{**vars_of(line), "declaration_ref": mrn})])
    me = principal(real, "officer")
    items = officer.queue(gate_of(real), services.risk, services.session_factory, me, today(real), source=SOURCE)
    assert sorted(i.summary["mrn"] for i in items) == sorted(own)
    scores = [i.score for i in items]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert officer.channel_counts(items) == {"yellow": 3}
    # Each status listed is the API's audited list.
    assert len(audit_actions(real, "declaration.list")) == len(officer.OPEN_STATUSES)


def vars_of(record: RiskRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def test_reasons_need_a_recorded_assessment_and_a_role_that_sees_risk(real: RealApp) -> None:
    services = services_of(real)
    mrn = real.seed("gb")
    with transaction(services.session_factory) as session:
        services.risk.assess(session, [RiskRecord(**{**vars_of(kcs_lines(1)[0]), "declaration_ref": mrn})])
    found = officer.reasons(services.risk, services.session_factory, principal(real, "officer"), mrn)
    assert found is not None and found.channel in {"green", "yellow", "red", "blue"}
    assert found.score is None and found.model is None  # no model trained: rules and random draw only
    assert officer.reasons(services.risk, services.session_factory, principal(real, "auditor"), mrn) is None
    assert officer.reasons(services.risk, services.session_factory, principal(real, "officer"), real.seed("gb")) is None


def test_release_with_a_reason_and_refusals_that_change_nothing(real: RealApp) -> None:
    gate, me = gate_of(real), principal(real, "officer")
    mrn = real.seed("gb")
    with pytest.raises(InputError, match="reason"):
        officer.decide(gate, me, mrn, "release", "   ", today(real), source=SOURCE)
    with pytest.raises(InputError, match="decision"):
        officer.decide(gate, me, mrn, "approve", "fine", today(real), source=SOURCE)
    assert gate.declarations.header(mrn).status == "under_control"
    done = officer.decide(gate, me, mrn, "release", "documents in order", today(real), source=SOURCE)
    assert done["status"] == "released"
    assert audit_actions(real, "declaration.decision.release") == [mrn]
    other = real.seed("gb", office=OTHER_GB_OFFICE)
    with pytest.raises((Forbidden, NotFound)):
        officer.decide(gate, me, other, "release", "not mine", today(real), source=SOURCE)
    assert gate.declarations.header(other).status == "under_control"


def test_break_glass_needs_a_justification_and_is_audited(real: RealApp) -> None:
    gate, me = gate_of(real), principal(real, "officer")
    other = real.seed("gb", office=OTHER_GB_OFFICE)
    with pytest.raises(ClearGuardError):
        officer.declaration(gate, me, other, today(real), source=SOURCE, justification=None)
    body = officer.declaration(
        gate, me, other, today(real), source=SOURCE, justification="suspected smuggling ring, case 2026-114"
    )
    assert body["break_glass"] is True and body["mrn"] == other and body["events"]
    assert audit_actions(real, "declaration.break-glass") == [other]
    # Break-glass opens a record for reading only.
    with pytest.raises(Forbidden):
        officer.decide(gate, me, other, "release", "glass", today(real), source=SOURCE)


def test_control_outcome_is_recorded_once_and_audited(real: RealApp) -> None:
    services, gate, me = services_of(real), gate_of(real), principal(real, "officer")
    mrn = real.seed("gb")
    with transaction(services.session_factory) as session:
        services.risk.assess(session, [RiskRecord(**{**vars_of(kcs_lines(1)[0]), "declaration_ref": mrn})])
    outcome = officer.parse_outcome("violation", "120.50", "undervalued invoice")
    assert outcome.violation and not outcome.critical and outcome.duty_recovered == 120.5
    officer.record_outcome(
        gate, services.risk, services.audit, services.session_factory, me, mrn, outcome, today(real), source=SOURCE
    )
    assert audit_actions(real, "risk.outcome") == [mrn]
    with pytest.raises(OutcomeConflict):
        officer.record_outcome(
            gate, services.risk, services.audit, services.session_factory, me, mrn, outcome, today(real), source=SOURCE
        )
    assert audit_actions(real, "risk.outcome") == [mrn]  # the refused one left no event


@pytest.mark.parametrize(
    ("result", "duty", "field"),
    [("maybe", None, "result"), ("none", "-1", "duty_recovered"), ("none", "ten", "duty_recovered")],
)
def test_outcome_form_refuses_bad_input(result: str, duty: str | None, field: str) -> None:
    with pytest.raises(InputError) as caught:
        officer.parse_outcome(result, duty, None)
    assert caught.value.field == field
