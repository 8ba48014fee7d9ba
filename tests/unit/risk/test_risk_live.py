from __future__ import annotations

import json
from datetime import date

import pytest

from clearguard.risk.errors import RiskInputError
from clearguard.risk.live import records_from_declaration
from tests.helpers import EXAMPLES


def load(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((EXAMPLES / name).read_text())
    return data


def test_h1_items_become_records_with_national_prices_and_indexed_parties() -> None:
    records = records_from_declaration(
        load("h1-import.json"), reference="26GB0000000000001A1", on=date(2026, 11, 22),
        party_index=lambda eori: f"idx({eori})", tax_rates={"851713": 0.0, "640399": 8.0},
    )  # fmt: skip
    assert [r.item for r in records] == [1, 2]
    first = records[0]
    assert first.hs6 == "851713" and first.origin_country == "CN" and first.departure_country == "CN"
    assert first.office == "GB000060" and first.procedure == "4000" and first.transport_mode == "1"
    assert first.item_price == pytest.approx(15000.00 * 0.79)
    assert first.net_mass_kg == 180.0
    assert first.declarant_id == "idx(GB123456789000)" and first.importer_id == "idx(GB123456789000)"
    assert records[1].tax_rate == 8.0 and first.tax_rate == 0.0
    assert first.fraud is None


def test_h7_never_uses_the_natural_person_consignee() -> None:
    payload = load("h7-low-value.json")
    records = records_from_declaration(payload, reference="M", on=date(2026, 11, 22))
    assert records and all(r.importer_id == "" for r in records)
    consignee = json.dumps(payload["consignee"])
    for record in records:
        for value in (record.declarant_id, record.seller_id, record.importer_id):
            assert not value or value not in consignee
    assert all(r.procedure == "H7" and r.tax_rate is None for r in records)


def test_not_a_declaration_is_refused() -> None:
    with pytest.raises(RiskInputError):
        records_from_declaration({"type": "X"}, reference="M", on=date(2026, 1, 1))
