"""ComplianceService: the one way into automated compliance.

    service = ComplianceService.from_settings(settings)      # or ComplianceService(pack)
    findings = service.validate(declaration, lrn_in_use=lookup, today=date(2026, 11, 22))

Built once per process (packs and reference data load and compile at construction); `validate` is
pure and cheap, safe to call from many threads.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from clearguard.compliance.checks import LrnLookup
from clearguard.compliance.engine import evaluate, make_context
from clearguard.compliance.findings import Finding
from clearguard.compliance.reference import ReferenceData, reference_data
from clearguard.compliance.rule_pack import RulePack, RulePackSet, load_rule_packs
from clearguard.config import Settings
from clearguard.declaration_model import DeclarationModel


class ComplianceService:
    def __init__(self, pack: RulePack | RulePackSet | str | Path = "default") -> None:
        """`pack`: a compiled pack version (applies whatever the date), a set of versions (the one in
        effect on the day applies), or a shipped pack's name or a path, loaded here."""
        self._ref: ReferenceData = reference_data()
        self._packs: RulePack | RulePackSet = load_rule_packs(pack) if isinstance(pack, str | Path) else pack
        # the day's pack is looked up once per day, not once per declaration; one attribute holding
        # a tuple, so a thread never sees one day's date with another day's pack
        self._day_pack: tuple[date, RulePack] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ComplianceService:
        """The pack named by `settings.rules_pack` (CLEARGUARD_RULES_PACK): a shipped name or a path."""
        return cls(settings.rules_pack)

    def pack_for(self, today: date | None = None) -> RulePack:
        """The pack version that applies on `today` (default: the current date)."""
        if isinstance(self._packs, RulePack):
            return self._packs
        day = today or date.today()
        cached = self._day_pack
        if cached is not None and cached[0] == day:
            return cached[1]
        pack = self._packs.in_effect(day)
        self._day_pack = (day, pack)
        return pack

    @property
    def pack_ref(self) -> str:
        """'<pack>@<version>' of the pack in effect today, to record with a validation's outcome."""
        return self.pack_for().ref

    def validate(
        self, declaration: DeclarationModel, *, lrn_in_use: LrnLookup | None = None, today: date | None = None
    ) -> list[Finding]:
        """Every finding of every enabled rule, in pack order; empty when the declaration is clean.

        `lrn_in_use(declarant_eori, lrn)` tells whether the declarant already used the LRN; without
        it the LRN rule is not checked. `today` picks the pack version in effect (default: today).
        """
        pack = self.pack_for(today)
        return evaluate(pack, make_context(declaration, self._ref, lrn_in_use))
