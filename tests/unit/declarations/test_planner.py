"""The planner is pure: the rows of lodging, amendments and decisions, computed without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.helpers import example

from clearguard.compliance.service import ComplianceService
from clearguard.declarations import documents
from clearguard.declarations.lifecycle import Decision, Status
from clearguard.declarations.parse import to_model
from clearguard.declarations.plain_vault import PlainVault
from clearguard.declarations.planner import (
    Prepared,
    Stored,
    check_amendment,
    party_refs,
    plan_amendment,
    plan_decision,
    plan_lodging,
    plan_version,
    sort_batch,
)
from clearguard.declarations.record_format import transition_canonical, version_canonical
from clearguard.declarations.results import Actor
from clearguard.errors import IllegalTransition, ValidationFailed
from clearguard.risk.lodging import RiskOutcome

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTOR = Actor("trader-1", "trader", "test")
SALT = bytes(range(32))
VAULT = PlainVault()


def prepared(doc: dict[str, Any]) -> Prepared:
    model = to_model(doc)
    assert not isinstance(model, list)
    normalised = model.model_dump(mode="json", exclude_none=True)
    return Prepared(model, normalised, ComplianceService().validate(model), documents.canonical_json(normalised))


def stored(p: Prepared, status: Status, channel: str | None = "yellow") -> Stored:
    declarant = VAULT.blind_index("eori", p.model.declarant.eori)
    return Stored(p.model.lrn, p.model.type, declarant, p.model.office_of_presentation, status, channel, 1)


def test_lodging_plans_the_rows_and_the_version_commits_to_its_automatic_transitions() -> None:
    p = prepared(example("h7-low-value.json"))
    refs = party_refs(VAULT, p.model)
    planned = plan_lodging(
        VAULT, p, mrn="26GB0000000000001", declarant_index="d", content_index="c", actor=ACTOR, now=NOW,
        outcome=RiskOutcome("red", 0.9, {}), pack_ref="default/2026.1", refs=refs, salt=SALT, committed=True,
    )  # fmt: skip
    assert [e["to_status"] for e in planned.events] == ["lodged", "accepted", "under_control"]
    assert planned.row["status"] == "under_control" and planned.row["office"] == p.model.office_of_presentation
    assert planned.version.record == (
        "26GB0000000000001/1",
        version_canonical(p.canonical, planned.events),
        SALT,
    )
    # H7's consignee is a natural person: its values are sealed under its own party reference.
    assert {part for part, _ref, _plain in planned.version.to_seal} == {"", "consignee"}
    assert planned.version.to_seal[-1][2] == SALT.hex()
    assert {r["role"] for r in planned.version.parties} == {"declarant", "consignee", "consignor"}


def test_a_version_without_a_ledger_commits_to_nothing() -> None:
    p = prepared(example("h1-import.json"))
    draft = plan_version(
        VAULT, "26GB0000000000001", 2, p, ACTOR, NOW, reason="r", refs=party_refs(VAULT, p.model), salt=SALT,
        committed=False,
    )  # fmt: skip
    assert draft.record is None and draft.row["version"] == 2 and draft.row["reason"] == "r"


def test_amendment_refuses_another_office_and_keeps_an_officers_control_level() -> None:
    p = prepared(example("h1-import.json"))
    moved = example("h1-import.json") | {"office_of_presentation": "GB000085"}
    declarant = VAULT.blind_index("eori", p.model.declarant.eori)
    with pytest.raises(ValidationFailed) as refused:
        check_amendment(stored(p, Status.UNDER_CONTROL), prepared(moved), declarant, mrn="m")
    assert refused.value.extra["findings"][0]["rule_id"] == "CG-AMEND-001"
    assert refused.value.extra["findings"][0]["pointer"] == "/office_of_presentation"
    with pytest.raises(IllegalTransition):
        check_amendment(stored(p, Status.RELEASED), p, declarant, mrn="m")
    held = plan_amendment(stored(p, Status.UNDER_CONTROL, "red"), RiskOutcome("green"), "typo")
    assert (held.version, held.target, held.channel, held.routing) == (2, Status.UNDER_CONTROL, "red", None)
    raised = plan_amendment(stored(p, Status.ACCEPTED, None), RiskOutcome("red"), "typo")
    assert raised.target is Status.UNDER_CONTROL and raised.routing == (
        Status.ACCEPTED,
        Status.UNDER_CONTROL,
        "amended: typo; channel red",
    )


def test_decision_plans_its_own_committed_transition_and_refuses_an_illegal_one() -> None:
    draft = plan_decision("m", 1, Status.UNDER_CONTROL, Decision.HOLD, ACTOR, NOW, "lab", salt=SALT)
    assert draft.row["from_status"] == "under_control" and draft.row["to_status"] == "held"
    assert draft.canonical == transition_canonical("m", draft.row) and draft.salt == SALT
    with pytest.raises(IllegalTransition):
        plan_decision("m", 1, Status.RELEASED, Decision.HOLD, ACTOR, NOW, "lab", salt=SALT)


def test_sort_batch_answers_repeats_and_conflicts_without_storing_them() -> None:
    a = prepared(example("h1-import.json"))
    other = example("h1-import.json")
    other["items"][0]["description"] = "something else"
    b = prepared(other)
    key = ("d", a.model.lrn)
    keyed = [(1, a, key, "c1"), (2, a, key, "c1"), (3, b, key, "c2")]
    plan = sort_batch(keyed, {}, {1: ACTOR, 2: ACTOR, 3: ACTOR}, lambda _item: "26GB0000000000001")
    assert [f.mrn for f in plan.fresh] == ["26GB0000000000001"] and plan.positions == [0]
    assert plan.repeats == [(1, 0, a)]
    assert isinstance(plan.results[2], ValidationFailed) and "CG-LRN-001" in str(plan.results[2].extra)
    stored_before = sort_batch([(1, a, key, "c1")], {key: ("M", "released", "green", 1, "c1")}, {1: ACTOR}, str)
    assert not stored_before.fresh and stored_before.results[0].created is False  # type: ignore[union-attr]
