"""RiskService against both databases: history, registry, assessment, outcomes, report."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.compliance.findings import Finding, Severity
from clearguard.config import Settings
from clearguard.risk import tables as risk_tables
from clearguard.risk.errors import AssessmentNotFound, ModelIntegrityError, OutcomeConflict, RiskError
from clearguard.risk.features import PRICE_FEATURES
from clearguard.risk.kcs import parse_kcs
from clearguard.risk.policy import parse_policy
from clearguard.risk.record import RiskRecord
from clearguard.risk.rules import RuleHit
from clearguard.risk.service import RiskService, clear_model_cache
from clearguard.risk.training import history_hash
from tests.helpers import SHARED

POLICY = parse_policy(
    """
channels: {random_share: 0.10, default: {red: 0.02, yellow: 0.05, blue: 0.03}}
rules:
  - {id: OR-1, kind: restricted_origin, origins: [KP], message: embargo}
  - {id: WL-1, kind: watchlist, party: declarant, ids: [GB123456789000], message: watchlisted declarant}
"""
)
_LINES: list[RiskRecord] = []


def kcs_lines(n: int = 4000) -> list[RiskRecord]:
    if not _LINES:
        with (SHARED / "data" / "kcs" / "train.csv").open(encoding="utf-8", newline="") as handle:
            _LINES.extend(parse_kcs(handle).records)
    return _LINES[:n]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RiskService]:
    assert risk_tables.RiskHistoryRow.__tablename__  # tables registered before the schema is created
    clear_model_cache()
    yield RiskService(
        Settings(var_dir=tmp_path / "var", risk_num_threads=1),
        policy=POLICY,
        rng=random.Random(1),
        clock=lambda: datetime(2021, 1, 4, 9, 0, tzinfo=UTC),
    )
    clear_model_cache()


def test_history_import_is_idempotent_and_round_trips(
    session_factory: sessionmaker[Session], service: RiskService
) -> None:
    lines = kcs_lines(1500)
    with session_factory() as session, session.begin():
        first = service.import_history(session, lines)
    with session_factory() as session, session.begin():
        again = service.import_history(session, lines[:1000] + kcs_lines(2000)[1500:])
    assert (first.inserted, first.already_present) == (1500, 0)
    assert (again.inserted, again.already_present) == (500, 1000)
    with session_factory() as session:
        stored = service.history(session)
    assert history_hash(stored) == history_hash(kcs_lines(2000))


def test_train_registers_versions_and_refuses_a_tampered_file(
    session_factory: sessionmaker[Session], service: RiskService
) -> None:
    with session_factory() as session, session.begin():
        service.import_history(session, kcs_lines())
        v1 = service.train(session)
    with session_factory() as session, session.begin():
        v2 = service.train(session, seed=7)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.data_hash == v2.data_hash == history_hash(kcs_lines())
    with session_factory() as session:
        current = service.model(session)
        assert current is not None and current.version == 2
        assert [m.is_current for m in service.models(session)] == [False, True]
        assert set(v1.metrics["at"]) == {"0.01", "0.02", "0.05", "0.10"}
    path = service.settings.var_dir / v2.file_path
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 1
    path.write_bytes(bytes(blob))
    clear_model_cache()
    with pytest.raises(ModelIntegrityError, match="does not match"):
        service.scorer(v2)
    service.scorer(v1)  # the untouched version still loads
    # lodging goes on without the refused model, and every decision says so
    with session_factory() as session, session.begin():
        fallback = service.assess(session, kcs_lines(4001)[4000:])
    assert fallback.score is None and "does not match" in fallback.reasons["model_refused"]


def test_assess_before_any_model_uses_rules_and_random_selection(
    session_factory: sessionmaker[Session], service: RiskService
) -> None:
    line = kcs_lines(1)[0]
    with session_factory() as session, session.begin():
        plain = service.assess(session, [line])
        embargo = service.assess(
            session, [RiskRecord(**{**_fields(line), "declaration_ref": "KP1", "origin_country": "KP"})]
        )
    assert plain.score is None and plain.model_version is None
    assert "no usable model" in plain.reasons["note"]
    assert plain.channel in {"green", "red", "yellow", "blue"}
    assert embargo.channel in {"yellow", "red"}
    assert embargo.reasons["rule_hits"][0]["rule"] == "OR-1"


def test_assess_with_a_model_explains_and_never_changes_a_recorded_decision(
    session_factory: sessionmaker[Session], service: RiskService
) -> None:
    with session_factory() as session, session.begin():
        service.import_history(session, kcs_lines())
        info = service.train(session)
    probe = kcs_lines(4100)[4000:4100]
    with session_factory() as session, session.begin():
        decisions = [service.assess(session, [r]) for r in probe]
    first = decisions[0]
    assert first.created and first.model_version == info.version and first.score is not None
    assert 0.0 <= first.reasons["top_share"] <= 1.0
    assert first.reasons["contributions"] and all(c["contribution"] > 0 for c in first.reasons["contributions"])
    # Values computed from the price would give it back: only their contributions are kept.
    explained = [c for d in decisions for c in d.reasons["contributions"]]
    from_price = [c for c in explained if c["feature"] in PRICE_FEATURES]
    assert from_price and all(c["value"] is None for c in from_price)
    assert any(c["value"] is not None for c in explained if c["feature"] not in PRICE_FEATURES)
    assert {d.channel for d in decisions} <= {"green", "yellow", "red", "blue"}
    # re-scoring: other random draws, a new model; the recorded decisions come back unchanged
    service.rng = random.Random(999)
    with session_factory() as session, session.begin():
        service.train(session, seed=3)
    with session_factory() as session, session.begin():
        again = [service.assess(session, [r]) for r in probe]
    assert [(a.channel, a.score, a.created) for a in again] == [(d.channel, d.score, False) for d in decisions]
    # an amendment (changed content) is assessed anew but never gets a weaker channel
    red_or_yellow = next(d for d in decisions if d.channel in {"red", "yellow"})
    record = next(r for r in probe if r.declaration_ref == red_or_yellow.declaration_ref)
    amended = RiskRecord(**{**_fields(record), "item_price": record.item_price + 1})
    with session_factory() as session, session.begin():
        later = service.assess(session, [amended])
    assert later.created
    order = ["green", "blue", "yellow", "red"]
    assert order.index(later.channel) >= order.index(red_or_yellow.channel)


def test_outcomes_feed_history_and_the_report(session_factory: sessionmaker[Session], service: RiskService) -> None:
    lines = kcs_lines(30)
    with session_factory() as session, session.begin():
        assessed = [service.assess(session, [line]) for line in lines]
        added = service.record_outcome(
            session,
            lines[0].declaration_ref,
            officer="o1",
            violation=True,
            critical=True,
            duty_recovered=120.5,
        )
        service.record_outcome(session, lines[1].declaration_ref, officer="o1", violation=False)
    assert added == 1
    with session_factory() as session, session.begin(), pytest.raises(OutcomeConflict):
        service.record_outcome(session, lines[0].declaration_ref, officer="o2", violation=False)
    with session_factory() as session, session.begin():
        with pytest.raises(AssessmentNotFound):
            service.record_outcome(session, "nope", officer="o2", violation=False)
        with pytest.raises(RiskError, match="critical"):
            service.record_outcome(session, lines[2].declaration_ref, officer="o2", violation=False, critical=True)
    with session_factory() as session:
        history = service.history(session)
        rows = session.scalars(select(risk_tables.RiskHistoryRow).order_by(risk_tables.RiskHistoryRow.id)).all()
        report = service.report(session)
    assert [(r.fraud, r.critical) for r in history] == [(1, 2), (0, 0)]
    assert rows[0].source == "officer" and rows[0].duty_recovered == 120.5 and rows[0].selection
    assert sum(r.declarations for r in report) == 30
    assert sum(r.outcomes for r in report) == 2 and sum(r.violations for r in report) == 1
    assert sum(r.random for r in report) == sum(a.random for a in assessed)
    assert sum(r.random_outcomes for r in report) == sum(a.random for a in assessed[:2])
    assert sum(r.random_violations for r in report) == int(assessed[0].random)
    for office in {r.office for r in report}:
        assert sum(r.share_of_office for r in report if r.office == office) == pytest.approx(1.0)


def test_lifecycle_port_with_a_live_declaration(session_factory: sessionmaker[Session], service: RiskService) -> None:
    payload = json.loads((SHARED / "examples" / "h1-import.json").read_text())
    review = Finding("REVIEW-1", Severity.REVIEW, "/items/0", "needs a look")
    with session_factory() as session, session.begin():
        outcome = service.assess_declaration(session, mrn="26GB00000000000001", payload=payload, findings=[])
        reviewed = service.assess_declaration(session, mrn="26GB00000000000002", payload=payload, findings=[review])
        red = service.confirm(session, "26GB00000000000001", officer="o1", channel="red")
    # the declarant is watchlisted in the test policy: at least yellow, explained
    assert outcome.channel in {"yellow", "red"}
    assert {h["rule"] for h in outcome.reasons["reasons"]["rule_hits"]} == {"WL-1"}
    assert {h["rule"] for h in reviewed.reasons["reasons"]["rule_hits"]} == {"WL-1", "REVIEW-1"}
    assert red.confirmed_channel == "red" and not red.requires_confirmation


def _fields(record: RiskRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}


def test_retraining_learns_from_recorded_outcomes(session_factory: sessionmaker[Session], service: RiskService) -> None:
    with session_factory() as session, session.begin():
        service.import_history(session, kcs_lines(3000))
        first = service.train(session)
    probe = kcs_lines(3020)[3000:]
    with session_factory() as session, session.begin():
        for record in probe:
            service.assess(session, [RiskRecord(**{**_fields(record), "fraud": None, "critical": None})])
            service.record_outcome(session, record.declaration_ref, officer="o1", violation=bool(record.fraud))
    with session_factory() as session, session.begin():
        second = service.train(session)
    assert (first.history_lines, second.history_lines) == (3000, 3020)
    assert second.data_hash != first.data_hash
    with session_factory() as session:
        current = service.model(session)
    assert current is not None and current.version == second.version


def _as_declarations(lines: list[RiskRecord], prefix: str) -> list[list[RiskRecord]]:
    """Lines grouped into declarations of 1 to 4 items (several-item ones take the batch's other path)."""
    groups: list[list[RiskRecord]] = []
    position = 0
    while position < len(lines):
        width = 1 + len(groups) % 4
        part = lines[position : position + width]
        groups.append(
            [
                RiskRecord(**{**_fields(r), "declaration_ref": f"{prefix}{len(groups)}", "item": n})
                for n, r in enumerate(part, start=1)
            ]
        )
        position += width
    return groups


def _decision(a: object) -> tuple[object, ...]:
    return tuple(getattr(a, name) for name in ("channel", "basis", "random", "score", "model_version", "reasons"))


@pytest.mark.parametrize("with_model", [False, True])
def test_batch_assessment_decides_exactly_as_one_by_one(
    session_factory: sessionmaker[Session], service: RiskService, with_model: bool
) -> None:
    if with_model:
        with session_factory() as session, session.begin():
            service.import_history(session, kcs_lines())
            service.train(session)
    probe = kcs_lines(4300)[4000:4300]
    review = [RuleHit("REVIEW-1", 0, "needs a look")]
    one_by_one = _as_declarations(probe, "A")
    batched = _as_declarations(probe, "B")
    service.rng = random.Random(5)
    with session_factory() as session, session.begin():
        single = [service.assess(session, g, extra_hits=review if n % 5 == 0 else (), fresh=True)
                  for n, g in enumerate(one_by_one)]  # fmt: skip
    service.rng = random.Random(5)
    with session_factory() as session, session.begin():
        many = service.assess_many(session, [(g, review if n % 5 == 0 else ()) for n, g in enumerate(batched)])
    assert [_decision(a) for a in many] == [_decision(a) for a in single]
    assert all(a.created for a in many) and {a.channel for a in many} >= {"green", "yellow"}
    with session_factory() as session:
        rows = session.scalars(select(risk_tables.RiskAssessmentRow).order_by(risk_tables.RiskAssessmentRow.id)).all()
        first, second = rows[: len(single)], rows[len(single) :]
        assert [(r.content_hash == s.content_hash, r.reasons, len(r.items)) for r, s in zip(first, second)] == [
            (False, s.reasons, len(s.items)) for s in second
        ]  # another reference, hence another content; the same decision
        assert [r.declaration_ref for r in second] == [g[0].declaration_ref for g in batched]
    # the same content again: the recorded decisions, unchanged, nothing new written
    with session_factory() as session, session.begin():
        again = service.assess_many(session, [(g, ()) for g in batched])
    assert [(a.created, a.channel, a.score) for a in again] == [(False, a.channel, a.score) for a in many]
    with session_factory() as session:
        count = len(session.scalars(select(risk_tables.RiskAssessmentRow.id)).all())
    assert count == 2 * len(single)


def test_batch_port_matches_the_single_port(session_factory: sessionmaker[Session], service: RiskService) -> None:
    payload = json.loads((SHARED / "examples" / "h1-import.json").read_text())
    review = Finding("REVIEW-1", Severity.REVIEW, "/items/0", "needs a look")
    items = [(f"26GB0000000000{n:04d}", payload, [review] if n % 2 else []) for n in range(6)]
    service.rng = random.Random(3)
    with session_factory() as session, session.begin():
        single = [service.assess_declaration(session, mrn=m, payload=p, findings=f, fresh=True) for m, p, f in items]
    service.rng = random.Random(3)
    with session_factory() as session, session.begin():
        many = service.assess_declarations(session, [(m.replace("GB", "FR"), p, f) for m, p, f in items], fresh=True)
    strip = [(o.channel, o.score, {k: v for k, v in o.reasons.items() if k != "declaration"}) for o in single]
    assert [(o.channel, o.score, {k: v for k, v in o.reasons.items() if k != "declaration"}) for o in many] == strip
    assert [o.reasons["declaration"] for o in many] == [m.replace("GB", "FR") for m, _p, _f in items]
    with session_factory() as session, session.begin():
        assert service.assess_declarations(session, []) == []


def _refs(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(risk_tables.RiskAssessmentRow.declaration_ref).order_by(risk_tables.RiskAssessmentRow.id)
            )
        )


def test_assessments_commit_and_roll_back_with_the_callers_transaction(
    session_factory: sessionmaker[Session], service: RiskService
) -> None:
    probe = kcs_lines(40)
    groups = _as_declarations(probe, "T")
    with session_factory() as session, session.begin():
        service.assess(session, groups[0], fresh=True)
        service.assess_many(session, [(g, ()) for g in groups[1:3]], fresh=True)
    assert _refs(session_factory) == ["T0", "T1", "T2"]
    with pytest.raises(RuntimeError), session_factory() as session, session.begin():
        service.assess(session, groups[3], fresh=True)
        raise RuntimeError("the lodging failed")
    # a session used again after a rollback carries nothing over
    with session_factory() as session:
        with pytest.raises(RuntimeError), session.begin():
            service.assess(session, groups[4], fresh=True)
            raise RuntimeError("the lodging failed")
        with session.begin():
            service.assess(session, groups[5], fresh=True)
        session.begin()
        service.assess(session, groups[6], fresh=True)
        session.close()  # ends the transaction without a commit
        with session.begin():
            service.assess(session, groups[7], fresh=True)
    assert _refs(session_factory) == ["T0", "T1", "T2", "T5", "T7"]


def test_assessments_are_read_back_in_their_own_transaction(
    session_factory: sessionmaker[Session], service: RiskService
) -> None:
    groups = _as_declarations(kcs_lines(40), "R")
    with session_factory() as session, session.begin():
        made = service.assess(session, groups[0], fresh=True)
        assert service.assessment(session, "R0").channel == made.channel
        again = service.assess(session, groups[0])  # the same content: the recorded decision
        assert not again.created and again.channel == made.channel
        service.assess(session, groups[1], fresh=True)
        assert {row.office for row in service.report(session)} == {groups[1][0].office} | {groups[0][0].office}
        confirmed = service.confirm(session, "R1", officer="o1", channel="red")
        assert confirmed.confirmed_channel == "red"
    assert _refs(session_factory) == ["R0", "R1"]
    with session_factory() as session:
        assert service.assessment(session, "R1").confirmed_channel == "red"


def test_a_savepoint_rollback_keeps_what_was_assessed_outside_it(
    session_factory: sessionmaker[Session], service: RiskService
) -> None:
    groups = _as_declarations(kcs_lines(60), "S")
    with session_factory() as session, session.begin():
        service.assess(session, groups[0], fresh=True)  # outside any savepoint, still waiting
        savepoint = session.begin_nested()
        service.assess(session, groups[1], fresh=True)
        service.assessment(session, "S1")  # a read inside the savepoint writes S0 and S1 there
        savepoint.rollback()  # S1 is gone; S0 belonged outside and is put back
        with session.begin_nested():
            service.assess(session, groups[2], fresh=True)  # kept: its savepoint was released
        inner = session.begin_nested()
        service.assess(session, groups[3], fresh=True)
        inner.rollback()  # never written, simply forgotten
        service.assess(session, groups[4], fresh=True)
        with pytest.raises(AssessmentNotFound):
            service.assessment(session, "S1")
        assert service.assessment(session, "S0").declaration_ref == "S0"
    assert sorted(_refs(session_factory)) == ["S0", "S2", "S4"]


def test_live_records_are_sealed_under_the_declarant_key(
    session_factory: sessionmaker[Session], service: RiskService, tmp_path: Path
) -> None:
    """Item 5: the scored records (item prices) of a live declaration are stored sealed under its
    declarant's key, read back for idempotence and outcomes, and gone once that key is shredded."""
    from sqlalchemy import select

    from clearguard.crypto import build_crypto_service, init_keys
    from clearguard.declarations.erasure import trader_ref_from_index

    settings = Settings(var_dir=tmp_path / "keys-var")
    init_keys(settings)
    vault = build_crypto_service(settings)
    try:
        service.vault, service.item_owner = vault, trader_ref_from_index
        service.party_index = lambda eori: vault.blind_index("eori", eori)
        payload = json.loads((SHARED / "examples" / "h1-import.json").read_text())
        mrn = "26GB00000000000003"
        with session_factory() as session, session.begin():
            first = service.assess_declaration(session, mrn=mrn, payload=payload, findings=[], fresh=True)
        with session_factory() as session, session.begin():
            again = service.assess_declaration(session, mrn=mrn, payload=payload, findings=[])
            [row] = session.scalars(select(risk_tables.RiskAssessmentRow)).all()
        assert again.reasons == first.reasons  # the same content, recognised through the sealed records
        assert row.items == [] and row.sealed_items is not None and b"11850" not in row.sealed_items
        assert row.content_hash != hashlib.sha256(b"").hexdigest()
        with session_factory() as session, session.begin():
            vault.shred(session, trader_ref_from_index(vault.blind_index("eori", "GB123456789000")))
        with session_factory() as session, session.begin():
            lines = service.record_outcome(session, mrn, officer="o1", violation=True)
        assert lines == 0  # the outcome is recorded, the erased declarant's records are not trained on
    finally:
        vault.close()
