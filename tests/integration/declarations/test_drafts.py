"""Drafts on both databases: sealed whole (no name, EORI or LRN-free content in any stored byte),
owner isolation, lodging a draft (deleted once lodged, kept with findings), retention disposal after
30 days, and erasure when the declarant's key is shredded."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from clearguard.audit.tables import AuditEventRow
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.db import utcnow
from clearguard.declarations.drafts import DraftService
from clearguard.declarations.parties import trader_ref
from clearguard.declarations.results import Actor
from clearguard.declarations.tables import DeclarationDraftRow, DeclarationRow
from clearguard.errors import NotFound, ValidationFailed
from clearguard.wiring import Services, build_services
from tests.helpers import example

ALICE = Actor("alice", "trader", "test")
BOB = Actor("bob", "trader", "test")
EORI = "GB123456789000"


@pytest.fixture
def services(engine: Engine, database_url: str) -> Iterator[Services]:
    settings = Settings(env="test", database_url=database_url)
    init_keys(settings)
    built = build_services(settings, engine=engine)
    yield built
    built.close()


def _drafts(services: Services) -> DraftService:
    assert services.drafts is not None
    return services.drafts


def _doc(lrn: str = "DRAFT-0001") -> dict[str, Any]:
    doc = copy.deepcopy(example("h1-import.json"))
    doc["lrn"] = lrn
    return doc


def _stored_bytes(services: Services) -> bytes:
    """Every column of every draft row as the database returns it (what a dump of the table holds)."""
    with services.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM declaration_drafts")).all()
    return b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for r in rows for v in r)


def _drafts_count(services: Services) -> int:
    with services.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(DeclarationDraftRow)) or 0)


@pytest.mark.parametrize("declarant", [EORI, None], ids=["party-key", "service-key"])
def test_a_draft_is_sealed_and_reads_back_for_its_owner_only(services: Services, declarant: str | None) -> None:
    doc = _doc()
    name = doc["declarant"]["name"]
    saved = _drafts(services).save(ALICE, doc, declarant=declarant)
    assert saved.title == "DRAFT-0001"
    stored = _stored_bytes(services)
    for secret in (name, doc["declarant"]["eori"], doc["declarant"]["address"]["street"]):
        assert secret.encode() not in stored, secret
    assert _drafts(services).get("alice", saved.id).document == doc
    assert [d.id for d in _drafts(services).list("alice")] == [saved.id]
    assert _drafts(services).list("bob") == []
    with pytest.raises(NotFound):
        _drafts(services).get("bob", saved.id)
    with pytest.raises(NotFound):
        _drafts(services).delete(BOB, saved.id)
    with pytest.raises(NotFound):
        _drafts(services).save(BOB, {"lrn": "X"}, draft_id=saved.id)
    with services.session_factory() as session:
        row = session.get(DeclarationDraftRow, saved.id)
        assert row is not None and (row.key_id is not None) is (declarant is not None)
        assert (row.declarant_index is not None) is (declarant is not None)


def test_a_sealed_document_moved_to_another_owner_does_not_open(services: Services) -> None:
    drafts = _drafts(services)
    mine = drafts.save(ALICE, _doc(), declarant=None)
    theirs = drafts.save(BOB, {"note": "empty"}, declarant=None)
    with services.session_factory.begin() as session:
        sealed = session.get(DeclarationDraftRow, mine.id)
        target = session.get(DeclarationDraftRow, theirs.id)
        assert sealed is not None and target is not None
        target.sealed = sealed.sealed
    with pytest.raises(Exception, match="does not open"):
        drafts.get("bob", theirs.id)


def test_incomplete_drafts_are_numbered_updated_and_audited_without_content(services: Services) -> None:
    drafts = _drafts(services)
    first = drafts.save(ALICE, {"type": "H1", "declarant": {"name": "Jane Quill"}})
    second = drafts.save(ALICE, {})
    assert (first.title, second.title) == ("draft 1", "draft 2")
    updated = drafts.save(ALICE, {"type": "H1", "lrn": "LATER-1"}, draft_id=first.id)
    assert updated.id == first.id and updated.title == "LATER-1"
    assert drafts.get("alice", first.id).document == {"type": "H1", "lrn": "LATER-1"}
    drafts.delete(ALICE, second.id)
    assert [d.id for d in drafts.list("alice")] == [first.id]
    with services.session_factory() as session:
        events = session.scalars(select(AuditEventRow).where(AuditEventRow.record_type == "declaration_draft")).all()
        assert [e.action for e in events].count("draft.save") == 3
        assert [e.action for e in events].count("draft.delete") == 1
    with services.engine.connect() as conn:
        audit = b"".join(str(r).encode() for r in conn.execute(text("SELECT * FROM audit_events")).all())
    assert b"Jane Quill" not in audit


def test_lodging_a_draft_lodges_it_and_deletes_the_draft(services: Services) -> None:
    drafts = _drafts(services)
    saved = drafts.save(ALICE, _doc("DRAFT-LODGE-1"), declarant=EORI)
    checked: list[dict[str, Any]] = []
    result = drafts.lodge(ALICE, saved.id, check=checked.append, lodge=services.declarations.lodge)
    assert len(result.mrn) == 18 and result.created
    assert checked and checked[0]["lrn"] == "DRAFT-LODGE-1"
    assert services.declarations.header(result.mrn).mrn == result.mrn
    with pytest.raises(NotFound):
        drafts.get("alice", saved.id)


def test_an_invalid_draft_is_saved_and_lodging_it_shows_findings_and_stores_nothing(services: Services) -> None:
    drafts = _drafts(services)
    doc = _doc("DRAFT-BAD-1")
    doc["items"][0]["commodity_code"] = "1234"
    saved = drafts.save(ALICE, doc, declarant=EORI)
    with pytest.raises(ValidationFailed) as refused:
        drafts.lodge(ALICE, saved.id, check=lambda d: None, lodge=services.declarations.lodge)
    assert refused.value.extra["findings"]
    assert drafts.get("alice", saved.id).document == doc  # kept as it was
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(DeclarationRow)) == 0


def test_retention_disposes_of_drafts_untouched_for_30_days(services: Services) -> None:
    drafts = _drafts(services)
    old = drafts.save(ALICE, _doc("OLD-1"))
    recent = drafts.save(ALICE, _doc("RECENT-1"))
    with services.session_factory.begin() as session:
        row = session.get(DeclarationDraftRow, old.id)
        assert row is not None
        row.updated_at = utcnow() - timedelta(days=31)
    dry = services.retention.run(actor="dpo", dry_run=True)
    assert dry.counts["declaration_drafts"] == 1
    report = services.retention.run(actor="dpo")
    assert report.counts["declaration_drafts"] == 1
    assert [d.id for d in drafts.list("alice")] == [recent.id]


def test_shredding_the_declarant_erases_its_drafts(services: Services) -> None:
    drafts = _drafts(services)
    sealed_for_party = drafts.save(ALICE, _doc("SHRED-1"), declarant=EORI)
    without_party = drafts.save(ALICE, {"lrn": "NOPARTY-1"})
    keys = services.key_service()
    with services.session_factory.begin() as session:
        keys.shred(session, trader_ref(services.vault, EORI))
    assert [d.id for d in drafts.list("alice")] == [without_party.id]
    with pytest.raises(NotFound):
        drafts.get("alice", sealed_for_party.id)
    assert _drafts_count(services) == 1


def test_an_account_keeps_a_bounded_number_of_drafts(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from clearguard.declarations import drafts as module

    monkeypatch.setattr(module, "MAX_DRAFTS_PER_OWNER", 2)
    drafts = _drafts(services)
    kept = [drafts.save(ALICE, {}), drafts.save(ALICE, {})]
    with pytest.raises(module.DraftLimitReached, match="at most 2"):
        drafts.save(ALICE, {"type": "H1"})
    assert _drafts_count(services) == 2
    drafts.save(ALICE, {"type": "H1"}, draft_id=kept[0].id)  # an existing draft can still be saved
    assert drafts.save(BOB, {}).title == "draft 1"  # the cap is per account
