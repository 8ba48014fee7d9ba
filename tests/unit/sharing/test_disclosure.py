"""What leaves under an agreement, decided field by field (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clearguard.sharing import disclosure, sdjwt
from clearguard.sharing.errors import SharingInputError
from clearguard.sharing.pseudonyms import pseudonym
from tests.helpers import example

KEY = b"k" * 32


def _select(doc: dict[str, Any], allow: str, fields: str | None = None, pseudonymise: bool = False) -> Any:
    categories = disclosure.parse_categories(allow)
    return disclosure.select(
        doc["type"], doc, categories=categories, fields=disclosure.parse_fields(fields, categories),
        pseudonymise=pseudonymise, pseudonym=lambda kind, value: pseudonym(KEY, kind, value),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("allow", "message"),
    [("biometric", "never be shared"), ("code,biometric", "never be shared"), ("secret", "unknown data category"),
     ("", "at least one"), (" , ", "at least one")],
)  # fmt: skip
def test_categories_refused_naming_the_option(allow: str, message: str) -> None:
    with pytest.raises(SharingInputError, match=message) as caught:
        disclosure.parse_categories(allow)
    assert str(caught.value).startswith("--allow")


def test_fields_must_exist_and_hold_an_allowed_category() -> None:
    assert disclosure.parse_fields("items/commodity_code, /invoice/currency/", ["code"]) == (
        "invoice/currency",
        "items/commodity_code",
    )
    with pytest.raises(SharingInputError, match="not a field"):
        disclosure.parse_fields("items/nonsense", ["code"])
    with pytest.raises(SharingInputError, match="no value of an allowed category"):
        disclosure.parse_fields("invoice/amount", ["code", "trade"])


def test_outside_the_categories_never_enters_the_sd_jwt() -> None:
    doc = example("h1-import.json")
    selection = _select(doc, "code,trade")
    text = json.dumps(selection.claims)
    for secret in ("Acme", "15000.00", "GB123456789000", "Dock Road", "INV-SZB", "customs@acme"):
        assert secret not in text
    assert selection.claims["items"][0]["commodity_code"] == "8517130000"
    assert selection.claims["lrn"] == doc["lrn"]  # code, not pseudonymised: shared as it is


def test_within_categories_outside_fields_is_withheld_as_a_digest() -> None:
    from joserfc.jwk import OKPKey

    doc = example("h1-import.json")
    selection = _select(doc, "code,trade", fields="items/commodity_code")
    key = OKPKey.generate_key("Ed25519")
    issued = sdjwt.issue(selection.claims, key=key)
    presented = issued.present(selection.keep)
    verified = sdjwt.verify(presented, key=OKPKey.import_key(key.as_dict(private=False)))
    assert verified.claims["items"][0] == {"commodity_code": "8517130000"}
    assert verified.withheld > 0
    assert "description" not in json.dumps(verified.claims)
    # Every withheld value is still in the issued SD-JWT, as a digest: disclosable later, verifiably.
    assert any(d.value == "Smartphones, 128 GB, retail boxed" for d in issued.disclosures)


def test_pseudonymised_parties() -> None:
    doc = example("h1-import.json")
    selection = _select(doc, "code,trade", pseudonymise=True)
    declarant = selection.claims["declarant"]
    assert declarant["eori"] == pseudonym(KEY, "eori", "GB123456789000")
    assert declarant["address"] == {"country": "GB"}
    assert "lrn" not in selection.claims  # the trader's own reference identifies it
    assert selection.claims["exporter"]["name"].startswith("pn:")  # no EORI: its name's pseudonym
    assert any(i == "GB123456789000" for _p, _k, i in selection.pseudonyms)
    again = _select(example("h1-import.json") | {"lrn": "OTHER-1"}, "code,trade", pseudonymise=True)
    assert again.claims["declarant"]["eori"] == declarant["eori"]  # one trader, one pseudonym
    other_key = disclosure.select(
        "H1", doc, categories=["code"], fields=(), pseudonymise=True,
        pseudonym=lambda kind, value: pseudonym(b"o" * 32, kind, value),
    )  # fmt: skip
    assert other_key.claims["declarant"]["eori"] != declarant["eori"]  # another partner cannot link


def test_receiver_refuses_unknown_and_outside_fields() -> None:
    terms = {"categories": ("code", "trade"), "fields": (), "pseudonymise": True}
    ok = _select(example("h1-import.json"), "code,trade", pseudonymise=True).claims
    assert disclosure.check_received("H1", ok, **terms) is None  # type: ignore[arg-type]
    unknown = ok | {"smuggled": "x"}
    assert disclosure.check_received("H1", unknown, **terms)[0] == "unknown-field"  # type: ignore[arg-type,index]
    price = json.loads(json.dumps(ok))
    price["items"][0]["item_price"] = "15000.00"
    assert disclosure.check_received("H1", price, **terms)[0] == "outside-agreement"  # type: ignore[arg-type,index]
    named = json.loads(json.dumps(ok))
    named["declarant"]["eori"] = "GB123456789000"
    assert disclosure.check_received("H1", named, **terms)[0] == "outside-agreement"  # type: ignore[arg-type,index]
    assert disclosure.check_received("H9", ok, **terms)[0] == "unknown-field"  # type: ignore[arg-type,index]


def test_a_shredded_party_gets_no_pseudonym() -> None:
    doc = example("h1-import.json")
    doc["declarant"] |= {"eori": "[erased]", "name": "[erased]"}
    selection = _select(doc, "code,trade", pseudonymise=True)
    assert "eori" not in selection.claims.get("declarant", {})
    assert all(kind != "eori" or ident != "[erased]" for _p, kind, ident in selection.pseudonyms)
