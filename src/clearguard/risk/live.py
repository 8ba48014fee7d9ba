"""Live declarations (the H1/H7 format of the declarations capability) as risk records, one per item.

Only code and trade fields, prices and opaque party ids are taken. The H7 consignee is a natural
person: it is never used, so no attribute of a natural person can reach the model. Party EORIs go
through `party_index` (the crypto capability's blind index in production), so the risk tables hold
no EORI in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from clearguard.risk.errors import RiskInputError
from clearguard.risk.record import RiskRecord, restore_hs6

PartyIndex = Callable[[str], str]


def _identity(value: str) -> str:
    return value


def _amount(value: Any, where: str) -> float:
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        raise RiskInputError(f"{where}: {value!r} is not a decimal amount", field=where) from None


def _eori(party: Any) -> str:
    if isinstance(party, Mapping):
        value = party.get("eori")
        if isinstance(value, str):
            return value.replace(" ", "").upper()
    return ""


def records_from_declaration(
    payload: Mapping[str, Any],
    *,
    reference: str,
    on: date,
    party_index: PartyIndex = _identity,
    tax_rates: Mapping[str, float] | None = None,
) -> list[RiskRecord]:
    """One risk record per item. `reference` is the MRN, `on` the lodging date; `tax_rates` (HS6 ->
    percent), when the tariff is known, fills the tax rate that KCS lines carry."""
    kind = payload.get("type")
    items = payload.get("items")
    if kind not in ("H1", "H7") or not isinstance(items, list) or not items:
        raise RiskInputError("payload: not an H1 or H7 declaration with items", field="/type")
    invoice = payload.get("invoice") or {}
    # Prices in the national currency when the invoice carries an exchange rate.
    rate = _amount(invoice["exchange_rate"], "/invoice/exchange_rate") if invoice.get("exchange_rate") else 1.0
    declarant = _eori(payload.get("declarant"))
    if kind == "H1":
        importer = _eori(payload.get("importer"))
        seller = _eori(payload.get("seller"))
        departure = str(payload.get("country_of_dispatch", ""))
        transport = str((payload.get("transport") or {}).get("mode_at_border", ""))
        procedure = str(payload.get("procedure", ""))
    else:
        importer = ""  # the consignee of a low-value consignment is a natural person: never a feature
        seller = _eori(payload.get("consignor"))
        consignor = payload.get("consignor") or {}
        departure = str((consignor.get("address") or {}).get("country", ""))
        transport = ""
        procedure = "H7"
    records: list[RiskRecord] = []
    for number, item in enumerate(items, start=1):
        where = f"/items/{number - 1}"
        hs6 = restore_hs6(str(item.get("commodity_code", ""))[:6])
        if hs6 is None:
            raise RiskInputError(f"{where}/commodity_code: not an HS code", field=f"{where}/commodity_code")
        price_field = "item_price" if kind == "H1" else "intrinsic_value"
        mass = item.get("net_mass_kg", item.get("gross_mass_kg"))
        records.append(
            RiskRecord(
                declaration_ref=reference,
                item=number,
                date=on,
                office=str(payload.get("office_of_presentation", "")),
                procedure=procedure,
                hs6=hs6,
                origin_country=str(item.get("origin_country", "")),
                departure_country=departure,
                transport_mode=transport,
                tax_rate=(tax_rates or {}).get(hs6),
                tax_type="",
                net_mass_kg=_amount(mass, f"{where}/net_mass_kg") if mass is not None else 0.0,
                item_price=_amount(item.get(price_field, "0"), f"{where}/{price_field}") * rate,
                declarant_id=party_index(declarant) if declarant else "",
                importer_id=party_index(importer) if importer else "",
                seller_id=party_index(seller) if seller else "",
            )
        )
    return records
