"""Reference data the compliance rules check against, loaded once per process.

HS 2022 (hs/), ISO 3166-1 alpha-2 countries and ISO 4217 currencies (pycountry, plus the codes it
lacks), the currency of each country, Incoterms 2020, and the EORI and ISO 6346 formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from clearguard.compliance.reference.check_digits import iso6346_check_digit
from clearguard.compliance.reference.countries import load_countries, load_country_currency
from clearguard.compliance.reference.currencies import load_currencies
from clearguard.compliance.reference.harmonized_system import HsNomenclature, load_hs
from clearguard.compliance.reference.identifiers import container_id_problem, eori_problem
from clearguard.compliance.reference.incoterms import INCOTERMS_2020

__all__ = [
    "INCOTERMS_2020",
    "HsNomenclature",
    "ReferenceData",
    "container_id_problem",
    "eori_problem",
    "iso6346_check_digit",
    "reference_data",
]


@dataclass(frozen=True, slots=True)
class ReferenceData:
    hs: HsNomenclature
    countries: frozenset[str]
    currencies: frozenset[str]
    country_currency: Mapping[str, str]
    incoterms: frozenset[str]


@lru_cache(maxsize=1)
def reference_data() -> ReferenceData:
    """All reference data, read from the package on first use and shared afterwards."""
    return ReferenceData(
        hs=load_hs(),
        countries=load_countries(),
        currencies=load_currencies(),
        country_currency=load_country_currency(),
        incoterms=INCOTERMS_2020,
    )
