"""The risk record: the one shape the model ever sees.

Imported history lines (KCS) and live declaration items both map onto it, one record per item.
Party ids are opaque identifiers of traders (KCS ids are already pseudonyms; live EORIs can be
passed through a blind index); no attribute of a natural person (name, address, age, nationality)
is part of it, so none can become a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class RiskRecord:
    declaration_ref: str  # KCS Declaration ID or the MRN
    item: int  # item number within the declaration, from 1
    date: date
    office: str
    procedure: str
    hs6: str  # always six digits
    origin_country: str
    departure_country: str
    transport_mode: str
    tax_rate: float | None  # percent (8.0 means 8 %); None when unknown at lodging
    tax_type: str
    net_mass_kg: float
    item_price: float
    declarant_id: str
    importer_id: str  # "" when unknown or a natural person
    seller_id: str = ""  # "" when unknown
    fraud: int | None = None  # control outcome: violation found 0/1; None before control
    critical: int | None = None  # 0, 1 or 2 (2 = critical) as in the KCS data

    @property
    def duty(self) -> float:
        """Duty at stake: Item Price x Tax Rate (rate in percent); the revenue measure used throughout."""
        return self.item_price * (self.tax_rate or 0.0) / 100.0


def restore_hs6(raw: str) -> str | None:
    """Six-digit HS code from a value whose leading zeros may have been lost (40890 -> 040890)."""
    text = raw.strip()
    if text.endswith(".0"):  # spreadsheets turn the code into a float
        text = text[:-2]
    if not text.isdigit() or not 1 <= len(text) <= 6:
        return None
    if len(text) < 5:
        # four digits or fewer cannot be a subheading with lost zeros (chapter 01 loses one zero at most)
        return None
    return text.zfill(6)
