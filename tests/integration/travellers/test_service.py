"""TravellerService on SQLite and PostgreSQL: sealed per traveller, audited, office-bound, disposed of
by crypto-shredding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from clearguard.audit import AuditQuery
from clearguard.crypto.fields import ERASED, FieldRef
from clearguard.db import transaction, utcnow
from clearguard.errors import Forbidden, InputError, NotFound
from clearguard.travellers import OtherOffice, parse_input, traveller_ref
from clearguard.travellers.tables import TravellerRecordRow
from clearguard.wiring import Services
from tests.integration.cli.test_shred_leaves_nothing import database_bytes, found_in
from tests.integration.travellers.conftest import (
    OFFICE,
    OFFICER,
    OTHER_OFFICER,
    TRADER,
    needles,
    record_data,
    record_input,
    template,
)


def rows(services: Services) -> list[TravellerRecordRow]:
    with services.session_factory() as session:
        return list(session.execute(select(TravellerRecordRow).order_by(TravellerRecordRow.id)).scalars())


def test_record_and_read_back(services: Services) -> None:
    made = services.travellers.record(record_input(" x9q4zk27t<< "), OFFICER, source="test")
    assert made.record_id.startswith("TRV-") and len(made.record_id) == 28
    view = services.travellers.get(made.record_id, OFFICER, "secondary check at the desk", source="test")
    assert not view.erased
    assert view.document_number == "X9Q4ZK27T<<" and view.nationality == "FR"
    assert view.template == template(1)
    assert view.goods == ["Marmalade-7731 jars", "3 bottles of Quetsche-4410"]
    assert (view.office, view.officer, view.declared_via) == (OFFICE, "officer-a", "red_channel")
    shown = view.to_dict()
    assert shown["template"]["length"] == 128 and "sha256" in shown["template"]
    assert view.to_dict(with_template=True)["template"] == template(1)
    # The row holds nothing about the traveller in clear; the index is the same for any spelling.
    [row] = rows(services)
    assert row.traveller_index == services.travellers.traveller_index("x9q4zk27t", "fr")
    assert row.declared_via == "red_channel" and row.office == OFFICE and row.officer == "officer-a"
    with services.session_factory() as session:
        events = services.audit.query(session, AuditQuery(record_type="traveller_record"))
    assert [(e.action, e.party, e.justification) for e in events] == [
        ("traveller.record", row.traveller_index, None),
        ("traveller.read", row.traveller_index, "secondary check at the desk"),
    ]


def test_only_officers_of_the_office_record_and_read(services: Services) -> None:
    with pytest.raises(OtherOffice) as caught:
        services.travellers.record(record_input(office="GB000085"), OFFICER)
    assert caught.value.status == 403 and caught.value.field == "office"
    with pytest.raises(Forbidden):
        services.travellers.record(record_input(), TRADER)
    assert rows(services) == []  # nothing written
    made = services.travellers.record(record_input(), OFFICER)
    with pytest.raises(OtherOffice):
        services.travellers.get(made.record_id, OTHER_OFFICER, "curious")
    with pytest.raises(Forbidden):
        services.travellers.get(made.record_id, TRADER, "curious")
    with pytest.raises(InputError) as missing:
        services.travellers.get(made.record_id, OFFICER, "  ")
    assert missing.value.field == "justification"
    with pytest.raises(NotFound):
        services.travellers.get("TRV-000000000000000000000000", OFFICER, "check")
    with pytest.raises(OtherOffice):
        services.travellers.list(OFFICE, OTHER_OFFICER)


def test_list_gives_metadata_only(services: Services) -> None:
    first = services.travellers.record(record_input(), OFFICER)
    second = services.travellers.record(record_input("Z11", "DE", seed=2, declared_via="oral"), OFFICER)
    listed = services.travellers.list(OFFICE, OFFICER)
    assert [s.record_id for s in listed] == [second.record_id, first.record_id]
    assert set(listed[0].to_dict()) == {"record_id", "office", "officer", "declared_via", "created_at"}


def test_nothing_about_the_traveller_is_stored_in_clear(services: Services, database_url: str, engine: Engine) -> None:
    data = [record_data(), record_data("L898902C3", "DE", seed=7, goods=["Pfeffer-9981 spice"])]
    for item in data:
        services.travellers.record(parse_input(item), OFFICER)
    services.travellers.get(rows(services)[0].record_id, OFFICER, "check")
    raw = database_bytes(database_url, engine)
    assert b"TRV-" in raw  # the search does see the table
    for item in data:
        assert found_in(needles(item), raw) == []


def test_disposal_shreds_travellers_left_without_a_record(services: Services) -> None:
    a1 = services.travellers.record(record_input("AAA111", "FR", seed=1), OFFICER)
    a2 = services.travellers.record(record_input("AAA111", "FR", seed=2), OFFICER)
    b1 = services.travellers.record(record_input("BBB222", "IT", seed=3), OFFICER)
    by_id = {row.record_id: row for row in rows(services)}
    b_row = by_id[b1.record_id]
    with transaction(services.session_factory) as session:
        due = services.travellers.due(session, utcnow() + timedelta(seconds=1))
        assert due == [by_id[a1.record_id].id, by_id[a2.record_id].id, b_row.id]
        assert services.travellers.due(session, utcnow() - timedelta(days=1)) == []
        result = services.travellers.dispose(session, [by_id[a1.record_id].id, b_row.id, 999_999])
    assert (result.records, result.travellers_shredded) == (2, 1)
    assert {row.record_id for row in rows(services)} == {a2.record_id}
    # The disposed records are gone; the traveller with a record left keeps its key.
    for gone in (a1, b1):
        with pytest.raises(NotFound):
            services.travellers.get(gone.record_id, OFFICER, "check")
    kept = services.travellers.get(a2.record_id, OFFICER, "check")
    assert not kept.erased and kept.template == template(2)
    # B's data is unrecoverable: a copy of its sealed row (a backup) no longer opens.
    with transaction(services.session_factory) as session:
        ref = FieldRef("traveller_records", b_row.record_id, "record", 1)
        assert services.vault.open_many(session, [(b_row.key_id, ref, b_row.sealed)]) == [ERASED]
        assert services.travellers.subject_records(session, "BBB222", "IT") == []
        assert [v.record_id for v in services.travellers.subject_records(session, "aaa111<", "fr")] == [a2.record_id]
        # A's key is live: recording again for A uses the same key.
        key = services.vault.key_for_party(session, traveller_ref(services.travellers.traveller_index("AAA111", "FR")))
    assert key == by_id[a2.record_id].key_id


def test_a_shredded_traveller_reads_as_erased(services: Services) -> None:
    made = services.travellers.record(record_input(), OFFICER)
    index = services.travellers.traveller_index("X9Q4ZK27T", "FR")
    with transaction(services.session_factory) as session:
        assert services.key_service().shred(session, traveller_ref(index)) == 1
    view = services.travellers.get(made.record_id, OFFICER, "check")
    assert view.erased and view.template is None and view.document_number is None
    assert view.to_dict()["document_number"] == "[erased]"
    [row] = rows(services)
    assert row.traveller_index is None  # no longer found by the traveller's index
    with transaction(services.session_factory) as session:
        assert services.travellers.subject_records(session, "X9Q4ZK27T", "FR") == []
        # Disposal of an already shredded traveller's record: deleted, nothing left to shred.
        assert services.travellers.dispose(session, [row.id]).travellers_shredded == 0
