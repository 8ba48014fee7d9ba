from __future__ import annotations

import pytest

from clearguard.risk.errors import RiskInputError
from clearguard.risk.kcs import COLUMNS, RejectedRow, parse_kcs
from clearguard.risk.record import restore_hs6
from tests.unit.risk.risk_helpers import KCS_DIR

HEADER = ",".join(COLUMNS)
GOOD = "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0"


def row(**changes: str) -> str:
    values = dict(zip(COLUMNS, GOOD.split(","), strict=True))
    values.update(changes)
    return ",".join(values[c] for c in COLUMNS)


def test_good_row_becomes_a_record() -> None:
    result = parse_kcs([HEADER, GOOD])
    assert result.rejected == []
    (record,) = result.records
    assert record.declaration_ref == "97061800"
    assert record.hs6 == "440890"
    assert record.office == "30" and record.procedure == "11" and record.transport_mode == "10"
    assert record.origin_country == "BE" and record.departure_country == "BE"
    assert record.tax_rate == 0.0 and record.tax_type == "FEU1"
    assert record.net_mass_kg == 108.0 and record.item_price == 372254.4
    assert record.declarant_id == "ZZR1LT6" and record.importer_id == "QLRUBN9" and record.seller_id == "0VKY2BR"
    assert record.date.isoformat() == "2020-01-01"
    assert (record.fraud, record.critical) == (0, 0)


@pytest.mark.parametrize(("raw", "expected"), [("40890", "040890"), ("040890", "040890"), ("10121.0", "010121")])
def test_lost_leading_zeros_are_restored(raw: str, expected: str) -> None:
    assert restore_hs6(raw) == expected
    assert parse_kcs([HEADER, row(**{"HS6 Code": raw})]).records[0].hs6 == expected


def test_critical_level_two_is_kept() -> None:
    record = parse_kcs([HEADER, row(Fraud="1", **{"Critical Fraud": "2"})]).records[0]
    assert (record.fraud, record.critical) == (1, 2)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"Date": "2020-13-01"}, "Date"),
        ({"HS6 Code": "4089"}, "HS6 Code"),
        ({"HS6 Code": "12345678"}, "HS6 Code"),
        ({"HS6 Code": "ABCDEF"}, "HS6 Code"),
        ({"Net Mass": "-1"}, "Net Mass"),
        ({"Item Price": "lots"}, "Item Price"),
        ({"Item Price": "nan"}, "Item Price"),
        ({"Tax Rate": "inf"}, "Tax Rate"),
        ({"Fraud": "3"}, "Fraud"),
        ({"Critical Fraud": "5"}, "Critical Fraud"),
        ({"Critical Fraud": "1"}, "without Fraud"),
        ({"Country of Origin": "CHN"}, "Country of Origin"),
        ({"Declarant ID": ""}, "Declarant ID"),
        ({"Office ID": "3 0"}, "Office ID"),
    ],
)
def test_bad_rows_are_rejected_with_line_and_reason(changes: dict[str, str], reason: str) -> None:
    result = parse_kcs([HEADER, GOOD.replace("97061800", "1"), row(**changes)])
    assert len(result.records) == 1
    assert result.rejected == [RejectedRow(3, result.rejected[0].reason)]
    assert reason in result.rejected[0].reason


def test_wrong_field_count_and_duplicates_are_rejected() -> None:
    lines = [HEADER, GOOD, GOOD + ",extra", "1,2,3", GOOD]
    result = parse_kcs(lines)
    assert [r.line for r in result.rejected] == [3, 4, 5]
    assert "fields" in result.rejected[0].reason
    assert "repeats line 2" in result.rejected[2].reason


def test_quoted_multiline_field_keeps_physical_line_numbers() -> None:
    bad = row(**{"Tax Type": '"A\nB"'})
    result = parse_kcs([HEADER + "\n", bad.split("\n")[0] + "\n", bad.split("\n")[1] + "\n", "x\n"])
    assert [r.line for r in result.rejected] == [3, 4]


def test_missing_columns_or_empty_file_refuse_the_whole_file() -> None:
    with pytest.raises(RiskInputError, match="missing columns: Fraud"):
        parse_kcs([HEADER.replace(",Fraud,", ",Fraudulent,"), GOOD])
    with pytest.raises(RiskInputError, match="empty"):
        parse_kcs([])


def test_outcome_optional_when_not_required() -> None:
    header = HEADER.removesuffix(",Fraud,Critical Fraud")
    line = GOOD.removesuffix(",0,0")
    record = parse_kcs([header, line], require_outcome=False).records[0]
    assert record.fraud is None and record.critical is None


def test_the_real_files_parse_without_rejections() -> None:
    for name, count in (("train.csv", 37385), ("valid.csv", 8134)):
        with (KCS_DIR / name).open(encoding="utf-8", newline="") as handle:
            result = parse_kcs(handle)
        assert result.rejected == []
        assert len(result.records) == count
        assert all(len(r.hs6) == 6 for r in result.records)


def test_bom_and_crlf_are_accepted() -> None:
    result = parse_kcs(["\ufeff" + HEADER + "\r\n", GOOD + "\r\n"])
    assert result.rejected == [] and len(result.records) == 1
