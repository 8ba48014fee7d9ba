from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from clearguard.access.errors import BreakGlassRequired, StepUpRequired
from clearguard.access.policy import (
    Action,
    RecordRef,
    Visibility,
    authorize_action,
    authorize_lodge,
    authorize_read,
    list_scope,
    redact_document,
    require_recent_mfa,
    view_for,
    visibility,
)
from clearguard.access.principal import MandateGrant, Principal
from clearguard.access.roles import ROLE_PERMISSIONS, STEP_UP_PERMISSIONS, Perm, Role
from clearguard.categories import DataCategory
from clearguard.errors import Forbidden, InputError, NotFound

TODAY = date(2026, 1, 15)
OWN = RecordRef(mrn="26GB00000000000001", party="GB111", office="GB000085")
OTHER_PARTY = RecordRef(mrn="26GB00000000000002", party="GB222", office="GB000085")
OTHER_OFFICE = RecordRef(mrn="26NL00000000000003", party="GB111", office="NL000396")


def p(role: Role, **kw: object) -> Principal:
    defaults: dict[str, object] = {"user_id": 1, "username": role.value, "role": role}
    defaults.update(kw)
    return Principal(**defaults)  # type: ignore[arg-type]


TRADER = p(Role.TRADER, party_eori="GB111")
BROKER = p(Role.BROKER, party_eori="GB900", mandates=(MandateGrant("GB111", date(2026, 1, 1), date(2026, 1, 31)),))
EXPIRED_BROKER = p(
    Role.BROKER, party_eori="GB900", mandates=(MandateGrant("GB111", date(2025, 1, 1), date(2026, 1, 14)),)
)
OFFICER = p(Role.OFFICER, office="GB000085")


@pytest.mark.parametrize(
    ("principal", "ref", "expected"),
    [
        (TRADER, OWN, Visibility.VISIBLE),
        (TRADER, OTHER_PARTY, Visibility.HIDDEN),
        (TRADER, OTHER_OFFICE, Visibility.VISIBLE),
        (BROKER, OWN, Visibility.VISIBLE),
        (BROKER, OTHER_PARTY, Visibility.HIDDEN),
        (EXPIRED_BROKER, OWN, Visibility.HIDDEN),
        (OFFICER, OWN, Visibility.VISIBLE),
        (OFFICER, OTHER_PARTY, Visibility.VISIBLE),
        (OFFICER, OTHER_OFFICE, Visibility.BREAK_GLASS),
        (p(Role.RISK_ANALYST), OTHER_OFFICE, Visibility.VISIBLE),
        (p(Role.AUDITOR), OTHER_OFFICE, Visibility.VISIBLE),
        (p(Role.ADMIN), OWN, Visibility.HIDDEN),
        (p(Role.DPO), OWN, Visibility.HIDDEN),
        (p(Role.PARTNER), OWN, Visibility.HIDDEN),
    ],
)
@pytest.mark.asvs("V8.2.2")
def test_visibility(principal: Principal, ref: RecordRef, expected: Visibility) -> None:
    assert visibility(principal, ref, TODAY) is expected


def test_visibility_compares_blind_indexes() -> None:
    ref = RecordRef(mrn="x", party="idx:GB111", office="GB000085")
    assert visibility(TRADER, ref, TODAY, party_key=lambda e: "idx:" + e) is Visibility.VISIBLE
    assert visibility(TRADER, ref, TODAY) is Visibility.HIDDEN


@pytest.mark.asvs("V8.2.2")
def test_hidden_is_404_and_break_glass_needs_a_justification() -> None:
    with pytest.raises(NotFound):
        authorize_read(TRADER, OTHER_PARTY, TODAY)
    with pytest.raises(BreakGlassRequired) as exc:
        authorize_read(OFFICER, OTHER_OFFICE, TODAY)
    assert exc.value.status == 403
    with pytest.raises(InputError):
        authorize_read(OFFICER, OTHER_OFFICE, TODAY, justification="because")
    grant = authorize_read(OFFICER, OTHER_OFFICE, TODAY, justification="Smuggling alert 2026-17 from NL office")
    assert grant.break_glass and grant.justification and grant.view.risk
    assert not authorize_read(OFFICER, OWN, TODAY).break_glass


def test_actions_404_then_403() -> None:
    authorize_action(TRADER, OWN, Action.AMEND, TODAY)
    with pytest.raises(NotFound):
        authorize_action(TRADER, OTHER_PARTY, Action.AMEND, TODAY)
    with pytest.raises(Forbidden):
        authorize_action(TRADER, OWN, Action.DECIDE, TODAY)
    authorize_action(OFFICER, OWN, Action.DECIDE, TODAY)
    with pytest.raises(Forbidden):
        authorize_action(OFFICER, OWN, Action.AMEND, TODAY)
    with pytest.raises(Forbidden):
        authorize_action(OFFICER, OTHER_OFFICE, Action.DECIDE, TODAY)
    with pytest.raises(Forbidden):
        authorize_action(p(Role.AUDITOR), OWN, Action.AMEND, TODAY)
    with pytest.raises(NotFound):
        authorize_action(p(Role.ADMIN), OWN, Action.DECIDE, TODAY)


def test_lodge_for_own_party_or_mandating_trader_only() -> None:
    authorize_lodge(TRADER, "GB111", TODAY)
    with pytest.raises(Forbidden):
        authorize_lodge(TRADER, "GB222", TODAY)
    authorize_lodge(BROKER, "GB111", TODAY)
    with pytest.raises(Forbidden):
        authorize_lodge(EXPIRED_BROKER, "GB111", TODAY)
    with pytest.raises(Forbidden):
        authorize_lodge(OFFICER, "GB111", TODAY)
    with pytest.raises(Forbidden):
        authorize_lodge(p(Role.ADMIN), "GB111", TODAY)


def test_list_scope() -> None:
    assert list_scope(TRADER, TODAY).parties == frozenset({"GB111"})
    assert list_scope(BROKER, TODAY).parties == frozenset({"GB900", "GB111"})
    assert list_scope(EXPIRED_BROKER, TODAY).parties == frozenset({"GB900"})
    assert list_scope(OFFICER, TODAY).offices == frozenset({"GB000085"})
    assert list_scope(p(Role.OFFICER), TODAY).empty
    assert list_scope(p(Role.AUDITOR), TODAY).parties is None
    with pytest.raises(Forbidden):
        list_scope(p(Role.ADMIN), TODAY)


def test_step_up_window() -> None:
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    require_recent_mfa(p(Role.OFFICER, mfa_at=now - timedelta(seconds=300)), now)
    with pytest.raises(StepUpRequired):
        require_recent_mfa(p(Role.OFFICER, mfa_at=now - timedelta(seconds=301)), now)
    with pytest.raises(StepUpRequired):
        require_recent_mfa(p(Role.OFFICER), now)


@pytest.mark.asvs("V8.2.1")
def test_admin_holds_no_declaration_permission_and_auditor_only_reads() -> None:
    assert not any(perm.startswith("declarations:") for perm in ROLE_PERMISSIONS[Role.ADMIN])
    assert {x for x in ROLE_PERMISSIONS[Role.AUDITOR] if x.startswith("declarations:")} == {Perm.DECLARATIONS_READ}
    assert Perm.DECLARATIONS_DECIDE in STEP_UP_PERMISSIONS and Perm.USERS_MANAGE in STEP_UP_PERMISSIONS


DOC = {
    "lrn": "L1",
    "declarant": {"eori": "GB111", "name": "Acme Ltd"},
    "consignee": {"name": "Jane Example", "contact": {"email": "j@example.org"}},
    "items": [
        {"commodity_code": "950300", "item_price": "42.90"},
        {"commodity_code": "950301", "item_price": "1"},
    ],
}
CATS = {
    ("lrn",): DataCategory.TRADE,
    ("declarant", "eori"): DataCategory.CODE,
    ("declarant", "name"): DataCategory.CONFIDENTIAL,
    ("consignee", "name"): DataCategory.PERSONAL,
    ("consignee", "contact", "email"): DataCategory.PERSONAL,
    ("items", 0, "commodity_code"): DataCategory.CODE,
    ("items", 0, "item_price"): DataCategory.CONFIDENTIAL,
    ("items", 1, "commodity_code"): DataCategory.CODE,
    ("items", 1, "item_price"): DataCategory.CONFIDENTIAL,
}


def categorised() -> list[tuple[tuple[str | int, ...], object, DataCategory]]:
    out = []
    for path, cat in CATS.items():
        node: object = DOC
        for t in path:
            node = node[t]  # type: ignore[index]
        out.append((path, node, cat))
    return out


@pytest.mark.asvs("V8.2.3")
def test_redaction_by_role() -> None:
    full, withheld = redact_document(DOC, categorised(), view_for(Role.BROKER))
    assert full == DOC and withheld == []
    analyst, withheld = redact_document(DOC, categorised(), view_for(Role.RISK_ANALYST))
    assert analyst == {
        "lrn": "L1",
        "declarant": {"eori": "GB111"},
        "items": [{"commodity_code": "950300"}, {"commodity_code": "950301"}],
    }
    assert withheld == ["confidential", "personal"]
    nothing, withheld = redact_document(DOC, categorised(), view_for(Role.AUDITOR))
    assert nothing == {} and set(withheld) == {"code", "trade", "confidential", "personal"}
    assert not view_for(Role.BROKER).risk and view_for(Role.OFFICER).risk and view_for(Role.RISK_ANALYST).risk
    assert not view_for(Role.ADMIN).contents
