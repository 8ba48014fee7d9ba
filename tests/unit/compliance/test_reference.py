"""Reference data shipped in the package: HS 2022, countries, currencies, Incoterms, EORI."""

from __future__ import annotations

from importlib import resources

import pytest

from clearguard.compliance.reference import INCOTERMS_2020, eori_problem, reference_data


def test_hs_2022_declarable_subheadings() -> None:
    hs = reference_data().hs
    assert len(hs.subheadings) == 5612  # as hs/SOURCE.md counts them
    assert {"851713", "640399", "950300"} <= hs.subheadings
    assert all(len(code) == 6 and code.isdigit() for code in hs.subheadings)
    assert "85" not in hs.subheadings and "8517" not in hs.subheadings  # chapters, headings
    assert "999999" not in hs.subheadings  # UN Comtrade pseudo-code, not HS
    assert hs.descriptions["851713"].startswith("Telephone sets; smartphones")
    assert len(hs.sections) == 21 and "section" not in hs.sections  # byte-order mark handled


def test_hs_files_ship_with_their_source_note() -> None:
    folder = resources.files("clearguard.compliance.reference.hs")
    for name in ("harmonized-system.csv", "sections.csv", "SOURCE.md"):
        assert folder.joinpath(name).is_file()
    assert "PDDL" in folder.joinpath("SOURCE.md").read_text("utf-8")


def test_countries_include_xi_and_xk() -> None:
    countries = reference_data().countries
    assert {"GB", "NL", "CN", "XI", "XK"} <= countries
    assert "UK" not in countries and "EU" not in countries


def test_currencies() -> None:
    currencies = reference_data().currencies
    assert {"EUR", "GBP", "USD", "CNY", "XCG", "ZWG"} <= currencies
    assert "ABC" not in currencies


def test_country_currency_table() -> None:
    ref = reference_data()
    table = ref.country_currency
    assert table["GB"] == "GBP" and table["XI"] == "GBP" and table["NL"] == "EUR" and table["XK"] == "EUR"
    assert table["BG"] == "EUR" and table["HR"] == "EUR" and table["PL"] == "PLN"
    assert set(table) <= ref.countries
    assert set(table.values()) <= ref.currencies
    # only the entities for which ISO 4217 names no universal currency are left out
    assert ref.countries - set(table) == {"AQ", "GS", "PS"}


def test_incoterms_2020() -> None:
    assert len(INCOTERMS_2020) == 11
    assert "DPU" in INCOTERMS_2020 and "DAT" not in INCOTERMS_2020


@pytest.mark.parametrize("eori", ["GB123456789000", "NL812345678", "XI123456789000", "DE1", "FR" + "A1" * 7 + "Z"])
def test_valid_eori(eori: str) -> None:
    assert eori_problem(eori, reference_data().countries) is None


@pytest.mark.parametrize("eori", ["GB", "GB1234567890123456", "ZZ123", "gb123", "GB 123", "12345"])
def test_invalid_eori(eori: str) -> None:
    assert eori_problem(eori, reference_data().countries) is not None


def test_loaded_once() -> None:
    assert reference_data() is reference_data()
