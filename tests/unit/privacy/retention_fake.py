"""A small real RetentionView for the privacy tests (the retention capability wires the real one):
EU 3 years from the end of the year of acceptance (UCC Art. 51), UK 4 years likewise, US 5 years
from entry (19 CFR 163.4); a country without a policy gets the longest. Holds are kept in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

EU = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
      "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]  # fmt: skip

POLICIES: list[dict[str, Any]] = [
    {"id": "eu-ucc-51", "jurisdiction": "EU", "record": "declaration", "categories": [], "start": "end_of_year_accepted",  # noqa: E501
     "period": "P3Y", "legal_basis": "UCC Art. 51", "extended_by": ["appeal", "court_case", "post_clearance_audit"]},
    {"id": "uk-cema", "jurisdiction": "UK", "record": "declaration", "categories": [], "start": "end_of_year_accepted",
     "period": "P4Y", "legal_basis": "UK customs record keeping", "extended_by": []},
    {"id": "us-163-4", "jurisdiction": "US", "record": "declaration", "categories": [], "start": "entry",
     "period": "P5Y", "legal_basis": "19 CFR 163.4", "extended_by": []},
    {"id": "audit", "jurisdiction": "EU", "record": "audit_event", "categories": [], "start": "recorded",
     "period": "P10Y", "legal_basis": "GDPR Art. 5(2)", "extended_by": []},
]  # fmt: skip


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass
class FakeRetention:
    declarations: Any  # DeclarationService: the lodging date and office of each MRN
    policies: list[dict[str, Any]] = field(default_factory=lambda: [dict(p) for p in POLICIES])
    holds: list[dict[str, Any]] = field(default_factory=list)

    def policy_list(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.policies]

    def jurisdictions(self) -> dict[str, list[str]]:
        return {"EU": EU, "UK": ["GB"], "US": ["US"]}

    def _policy(self, country: str) -> dict[str, Any]:
        for jurisdiction, countries in self.jurisdictions().items():
            if country in countries:
                for p in self.policies:
                    if p["jurisdiction"] == jurisdiction and p["record"] == "declaration":
                        return p
        return max((p for p in self.policies if p["record"] == "declaration"), key=lambda p: int(p["period"][1:-1]))

    def schedule(self, session: Session, mrns: Sequence[str]) -> dict[str, dict[str, Any]]:
        out = {}
        for mrn in mrns:
            header = self.declarations.header(mrn)
            policy = self._policy(header.office[:2])
            lodged = header.created_at.date()
            start = lodged if policy["start"] == "entry" else date(lodged.year, 12, 31)
            years = int(policy["period"][1:-1])
            held = any(h["scope"] == "mrn" and h["mrn"] == mrn for h in self.holds)
            out[mrn] = {
                "policy": policy["id"], "jurisdiction": policy["jurisdiction"], "start": start.isoformat(),
                "period": policy["period"], "disposal_due": _plus_years(start, years).isoformat(), "held": held,
                "legal_basis": policy["legal_basis"],
            }  # fmt: skip
        return out

    def holds_covering(self, session: Session, party_ref: str, mrns: Sequence[str]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in h.items() if k not in ("party_ref", "mrn")}
            for h in self.holds
            if (h["scope"] == "party" and h.get("party_ref") == party_ref) or (h["scope"] == "mrn" and h["mrn"] in mrns)
        ]

    def hold(self, *, party_ref: str | None = None, mrn: str | None = None, reason: str = "appeal pending") -> None:
        self.holds.append({
            "id": len(self.holds) + 1, "scope": "party" if party_ref else "mrn", "party_ref": party_ref, "mrn": mrn,
            "case": "APPEAL-1", "reason": reason, "owner": "legal", "review": None, "created_at": "2026-01-01",
        })  # fmt: skip
