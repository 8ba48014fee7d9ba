"""Page data of the risk analyst, auditor, DPO and administrator on both databases, through the
capabilities' services (and their audit events)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clearguard.audit.service import AuditQuery
from clearguard.db import transaction
from clearguard.errors import ClearGuardError, Forbidden, InputError
from clearguard.portal.boards import admin, analyst, auditor, dpo, officer
from clearguard.risk.record import RiskRecord
from tests.integration.api.app_env import GB_TRADER, RealApp, make_real_app
from tests.integration.portal.board_env import gate_of, principal, services_of, today
from tests.integration.portal.test_officer_board import kcs_lines, vars_of

SOURCE = "portal-test"


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def events(real: RealApp, action: str) -> list[dict[str, object]]:
    services = services_of(real)
    with services.session_factory() as session:
        return [e.to_dict() for e in services.audit.query(session, AuditQuery(action=action))]


def test_analyst_report_and_hit_rates_per_office(real: RealApp) -> None:
    services, gate, me = services_of(real), gate_of(real), principal(real, "officer")
    mrns = [real.seed("gb") for _ in range(3)]
    with transaction(services.session_factory) as session:
        for mrn, line in zip(mrns, kcs_lines(3), strict=True):
            record = RiskRecord(**{**vars_of(line), "declaration_ref": mrn, "office": "GB000060"})
            services.risk.assess(session, [record])
    for mrn, result in zip(mrns[:2], ("violation", "none"), strict=True):
        officer.record_outcome(
            gate, services.risk, services.audit, services.session_factory, me, mrn,
            officer.parse_outcome(result, None, None), today(real), source=SOURCE,
        )  # fmt: skip
    view = analyst.overview(services.risk, services.session_factory)
    assert view.models == [] and view.current is None
    assert sum(r.declarations for r in view.report) == 3
    [office] = view.offices
    assert (office.declarations, office.outcomes, office.violations) == (3, 2, 1)
    [bar] = analyst.hit_rate_bars(view.offices)
    assert bar.value == 0.5


def test_evaluation_bars_set_the_model_beside_random_selection() -> None:
    metrics = {
        "at": {"0.01": {"precision": 0.6, "recall": 0.1}, "0.05": {"precision": 0.4, "recall": 0.3}},
        "random": {"at": {"0.01": {"precision": 0.1, "recall": 0.01}, "0.05": {"precision": 0.1, "recall": 0.05}}},
    }
    bars = analyst.evaluation_bars(metrics)
    assert [(b.label, b.value) for b in bars] == [
        ("1% model", 0.6), ("1% random", 0.1), ("5% model", 0.4), ("5% random", 0.1),
    ]  # fmt: skip
    assert [b.value for b in analyst.evaluation_bars(metrics, "recall")] == [0.1, 0.01, 0.3, 0.05]
    assert analyst.evaluation_bars({}) == []


def test_auditor_search_is_itself_audited_and_decisions_are_counted_by_day(real: RealApp) -> None:
    services, gate = services_of(real), gate_of(real)
    mrn = real.seed("gb")
    officer.decide(gate, principal(real, "officer"), mrn, "hold", "sample taken", today(real), source=SOURCE)
    me = principal(real, "auditor")
    form = auditor.parse_search(None, "declaration.decision.hold", None, None, None, None)
    found = auditor.search(services.audit, services.session_factory, me, form, source=SOURCE)
    assert [e.record_id for e in found] == [mrn]
    [logged] = events(real, "audit.search")
    assert logged["actor"] == "auditor" and logged["details"] == {"filters": "action", "returned": 1}
    series = auditor.decisions_by_day(services.audit, services.session_factory, real.clock.now().date())
    assert set(series) == {"release", "hold", "reject"}
    assert [b.value for b in series["hold"]][-1] == 1 and sum(b.value for b in series["release"]) == 0
    assert len(auditor.total_bars(series)) == 14


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((None, None, None, None, "2026-13-01", None), "since"),
        ((None, None, None, None, "2026-02-02", "2026-02-01"), "since"),
        (("x" * 300, None, None, None, None, None), "actor"),
    ],
)
def test_audit_search_form_refuses_bad_input(args: tuple[str | None, ...], field: str) -> None:
    with pytest.raises(InputError) as caught:
        auditor.parse_search(*args)
    assert caught.value.field == field


def test_ledger_state_and_verification(real: RealApp) -> None:
    services = services_of(real)
    real.seed("gb")
    services.ledger.integrate_all(services.session_factory)
    state = auditor.ledger_state(services.ledger, services.session_factory)
    assert state.size > 0 and state.root is not None and state.pending == 0 and state.note
    report = auditor.verify(
        services.ledger, services.audit, services.session_factory, principal(real, "auditor"), source=SOURCE
    )
    assert report.ok and report.size == state.size
    [logged] = events(real, "ledger.verify")
    assert logged["outcome"] == "ok"


def test_dpo_places_and_releases_a_hold_and_bad_holds_change_nothing(real: RealApp) -> None:
    services, me = services_of(real), principal(real, "dpo")
    mrn = real.seed("gb")
    with pytest.raises(InputError) as caught:
        dpo.add_hold(
            services.retention,
            me,
            party=GB_TRADER,
            mrn=mrn,
            case=None,
            reason="r",
            owner="o",
            review=None,
            source=SOURCE,
        )
    assert caught.value.field == "party"
    with pytest.raises(InputError) as caught:
        dpo.add_hold(
            services.retention, me, party=None, mrn=mrn, case=None, reason=" ", owner="o", review=None, source=SOURCE
        )
    assert caught.value.field == "reason"
    assert services.retention.list_holds() == []
    hold = dpo.add_hold(
        services.retention, me, party=None, mrn=mrn.lower(), case="APPEAL-7", reason="appeal pending",
        owner="legal", review="2027-01-31", source=SOURCE,
    )  # fmt: skip
    view = dpo.overview(services.retention, services.privacy, services.sharing, me, source=SOURCE)
    assert [h["id"] for h in view.holds] == [hold.id] and view.policies and view.agreements == []
    dpo.release_hold(services.retention, me, hold.id, "appeal withdrawn", source=SOURCE)
    assert services.retention.list_holds() == []


def test_dpo_subject_access_report_is_a_download_and_audited(real: RealApp) -> None:
    services, me = services_of(real), principal(real, "dpo")
    real.seed("gb")
    report = dpo.subject_access(services.privacy, me, GB_TRADER, "json", source=SOURCE)
    assert report.media_type == "application/json" and report.filename == "subject-access.json"
    assert b'"declarations"' in report.body
    assert len(events(real, "privacy.subject-access")) == 1
    with pytest.raises(InputError):
        dpo.subject_access(services.privacy, me, GB_TRADER, "exe", source=SOURCE)
    with pytest.raises(ClearGuardError):
        dpo.subject_access(services.privacy, me, "not-an-eori", "json", source=SOURCE)


def test_admin_sees_accounts_mandates_roles_and_keys_and_acts_on_others_only(real: RealApp) -> None:
    services, me = services_of(real), principal(real, "admin")
    real.seed("gb")  # a declarant's data key, wrapped under the current key-encryption key
    view = admin.overview(services.identity, services.crypto, services.session_factory)
    by_name = {a.username: a for a in view.accounts}
    assert by_name["broker"].mandates == (GB_TRADER,) and by_name["officer"].office == "GB000060"
    assert all(a.mfa for a in view.accounts)
    assert {r.role for r in view.roles} >= {"officer", "security"}
    assert view.keys is not None and view.keys.current_version is not None and view.keys.live_keys >= 1
    admin.administer(services.identity, me, "trader", "disable", source=SOURCE)
    assert {a.username: a for a in services.identity.account_summaries()}["trader"].disabled
    assert [e["record_id"] for e in events(real, "account.disable")] == ["trader"]
    with pytest.raises(Forbidden):
        admin.administer(services.identity, me, "admin", "disable", source=SOURCE)
    with pytest.raises(InputError):
        admin.administer(services.identity, me, "trader", "delete", source=SOURCE)
