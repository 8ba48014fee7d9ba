"""Varied, valid declarations for demo data, tests and benchmarks (deterministic for a seed).

Goods come from HS 2022 chapters that no default rule pack list restricts, parties from a small
pool so that LRNs repeat per declarant only when asked to.
"""

from __future__ import annotations

import random
import string
from decimal import Decimal
from typing import Any

from clearguard.compliance.reference import iso6346_check_digit, reference_data

SAFE_CHAPTERS = ("39", "42", "61", "62", "64", "69", "73", "83", "84", "85", "94", "95", "96")
STREETS = ("Dock Road", "Harbour Way", "Quay Street", "Mill Lane", "Station Road", "Canal Street")
CITIES = {
    "GB": ("Felixstowe", "Southampton", "Dover"),
    "NL": ("Rotterdam", "Schiphol", "Venlo"),
    "DE": ("Hamburg", "Bremen", "Frankfurt"),
}
OFFICES = {"GB": ("GB000060", "GB000120"), "NL": ("NL000396", "NL000850"), "DE": ("DE004700", "DE004800")}
ORIGINS = ("CN", "VN", "IN", "TR", "US", "BD", "TH", "MY", "KR", "JP")
SURNAMES = ("Jansen", "de Vries", "Smith", "Müller", "Bakker", "Visser", "Meyer", "Taylor")
GIVEN = ("Anna", "Pieter", "Sophie", "Lukas", "Emma", "Daan", "Mia", "Noah")


def _codes() -> list[str]:
    return sorted(c for c in reference_data().hs.subheadings if c[:2] in SAFE_CHAPTERS)


def container_id(rng: random.Random) -> str:
    head = "".join(rng.choice(string.ascii_uppercase) for _ in range(3)) + "U"
    head += "".join(rng.choice(string.digits) for _ in range(6))
    return head + str(iso6346_check_digit(head))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _trader(rng: random.Random, country: str, number: int) -> dict[str, Any]:
    eori = f"{country}{number:012d}" if country == "GB" else f"{country}{number:09d}"
    return {
        "eori": eori,
        "name": f"Trader {number} {rng.choice(['Ltd', 'B.V.', 'GmbH'])}",
        "address": {
            "street": f"{rng.randint(1, 300)} {rng.choice(STREETS)}",
            "city": rng.choice(CITIES[country]),
            "postcode": f"{rng.randint(1000, 9999)}",
            "country": country,
        },
        "contact": {"email": f"customs{number}@trader.example", "phone": f"+31 10 {rng.randint(1000000, 9999999)}"},
    }


def _foreign(rng: random.Random, country: str) -> dict[str, Any]:
    return {
        "name": f"Supplier {rng.randint(1, 999)} Co., Ltd.",
        "address": {
            "street": f"{rng.randint(1, 99)} Industrial Road",
            "city": "Export City",
            "postcode": f"{rng.randint(100000, 999999)}",
            "country": country,
        },
    }


def h1(rng: random.Random, serial: int, *, traders: int = 50) -> dict[str, Any]:
    codes = _codes()
    country = rng.choice(("GB", "NL", "DE"))
    declarant = _trader(rng, country, rng.randint(1, traders))
    supplier_country = rng.choice(ORIGINS)
    items: list[dict[str, Any]] = []
    total_price = Decimal(0)
    total_gross = Decimal(0)
    for _ in range(rng.randint(1, 4)):
        net = Decimal(rng.randint(1000, 500000)) / 1000
        gross = net + Decimal(rng.randint(0, 50000)) / 1000
        price = _money(rng, 50, 50000)
        total_price += price
        total_gross += gross
        code = rng.choice(codes)
        items.append(
            {
                "commodity_code": code + rng.choice(["", "00", "0000"]),
                "description": f"Goods of HS {code}, lot {rng.randint(1, 9999)}",
                "origin_country": rng.choice(ORIGINS),
                "net_mass_kg": f"{net:.3f}",
                "gross_mass_kg": f"{gross:.3f}",
                "item_price": f"{price:.2f}",
                "valuation_method": 1,
                "packages": {"kind": "CT", "count": rng.randint(1, 500)},
                "documents": [{"code": "N935", "reference": f"INV-{serial}"}],
            }
        )
    currency = {"GB": "GBP", "NL": "EUR", "DE": "EUR"}[country]
    foreign_currency = rng.random() < 0.4
    invoice: dict[str, Any] = {"currency": "USD" if foreign_currency else currency, "amount": f"{total_price:.2f}"}
    if foreign_currency:
        invoice["exchange_rate"] = "0.7900" if country == "GB" else "0.9200"
    supplier = _foreign(rng, supplier_country)
    return {
        "type": "H1",
        "lrn": f"LRN-{serial:010d}",
        "declarant": declarant,
        "importer": {k: v for k, v in declarant.items() if k != "contact"},
        "exporter": supplier,
        "seller": supplier,
        "office_of_presentation": rng.choice(OFFICES[country]),
        "procedure": "4000",
        "delivery_terms": {"incoterm": rng.choice(["CIF", "FOB", "DAP", "EXW"]), "place": "Port"},
        "invoice": invoice,
        "transport": {
            "mode_at_border": rng.choice([1, 3, 4]),
            "container_ids": [container_id(rng) for _ in range(rng.randint(0, 2))],
            "nationality_of_means": "PA",
        },
        "country_of_dispatch": supplier_country,
        "total_packages": sum(int(i["packages"]["count"]) for i in items),
        "gross_mass_kg": f"{total_gross:.3f}",
        "items": items,
    }


def h7(rng: random.Random, serial: int, *, traders: int = 50) -> dict[str, Any]:
    codes = _codes()
    country = rng.choice(("NL", "DE"))
    declarant = _trader(rng, country, rng.randint(1, traders))
    items = []
    total = Decimal(0)
    for _ in range(rng.randint(1, 3)):
        value = _money(rng, 2, 45)
        total += value
        items.append(
            {
                "commodity_code": rng.choice(codes),
                "description": "Consumer goods",
                "origin_country": rng.choice(ORIGINS),
                "intrinsic_value": f"{value:.2f}",
                "gross_mass_kg": f"{Decimal(rng.randint(50, 5000)) / 1000:.3f}",
            }
        )
    return {
        "type": "H7",
        "lrn": f"H7-{serial:010d}",
        "declarant": declarant,
        "consignee": {
            "name": f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}",
            "address": {
                "street": f"{rng.choice(STREETS)} {rng.randint(1, 200)}",
                "city": rng.choice(CITIES[country]),
                "postcode": f"{rng.randint(1000, 9999)} AB",
                "country": country,
            },
            "contact": {"email": f"person{serial}@mail.example"},
        },
        "consignor": _foreign(rng, "CN"),
        "office_of_presentation": rng.choice(OFFICES[country]),
        "transport_document": f"LP{rng.randint(10**10, 10**11 - 1)}CN",
        "invoice": {"currency": "EUR", "amount": f"{total:.2f}"},
        "items": items,
    }


def generate(count: int, *, seed: int = 2026, h7_share: float = 0.3) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # nosec B311: seeded sample data, not secrets
    return [h7(rng, n) if rng.random() < h7_share else h1(rng, n) for n in range(count)]
