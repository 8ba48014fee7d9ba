"""HS 2022 nomenclature, from the copied data package in `hs/` (see hs/SOURCE.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

PSEUDO_SECTION = "TOTAL"
DECLARABLE_LEVEL = "6"  # only six-digit subheadings are declarable; chapters and headings are not


@dataclass(frozen=True, slots=True)
class HsNomenclature:
    subheadings: frozenset[str]  # level-6 codes, six digits each
    descriptions: Mapping[str, str]  # every code (chapter, heading, subheading) -> description
    sections: Mapping[str, str]  # roman numeral -> section name

    def is_subheading(self, code: str) -> bool:
        return code in self.subheadings


def _read(name: str) -> str:
    # utf-8-sig: sections.csv starts with a byte-order mark, which would otherwise stick to "section"
    return resources.files("clearguard.compliance.reference.hs").joinpath(name).read_text("utf-8-sig")


def load_hs() -> HsNomenclature:
    subheadings: set[str] = set()
    descriptions: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(_read("harmonized-system.csv"))):
        code = row["hscode"]
        # UN Comtrade pseudo-codes are not HS: TOTAL, and chapter 99 "commodities not specified
        # according to kind" (99, 9999, 999999), which sits in the TOTAL pseudo-section
        if not code.isdigit() or row["section"] == PSEUDO_SECTION:
            continue
        descriptions[code] = row["description"]
        if row["level"] == DECLARABLE_LEVEL and len(code) == 6:
            subheadings.add(code)
    sections = {row["section"]: row["name"] for row in csv.DictReader(io.StringIO(_read("sections.csv")))}
    return HsNomenclature(frozenset(subheadings), MappingProxyType(descriptions), MappingProxyType(sections))
