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
from clearguard.compliance.checks.codes import EoriParams, eori_formats
from clearguard.compliance.engine import evaluate, make_context
from clearguard.compliance.errors import InvalidEori
from clearguard.compliance.findings import Finding
from clearguard.compliance.reference import ReferenceData, reference_data
from clearguard.compliance.reference.identifiers import EoriFormats
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
        self._eori: dict[str, tuple[str, EoriFormats]] = {}  # pack ref -> (rule id, its EORI table)

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

    def check_eori(self, eori: str, *, field: str, today: date | None = None) -> str:
        """`eori` normalised (trimmed, upper case) when it has the format the pack in effect states
        (rule CG-EORI-001's table), for EORIs taken outside a declaration: list filters, accounts,
        mandates. InvalidEori (422, exit 2) naming the field and the rule otherwise; the value is not
        echoed (a filter's value stays out of responses and logs)."""
        value = eori.strip().upper()
        rule, formats = self._eori_rule(self.pack_for(today))
        reason = formats.problem(value)
        if reason is not None:
            raise InvalidEori(f"{field}: not an EORI number: {reason} (rule {rule})", field=field)
        return value

    def _eori_rule(self, pack: RulePack) -> tuple[str, EoriFormats]:
        cached = self._eori.get(pack.ref)
        if cached is None:
            found = next((r for r in pack.rules if r.check == "eori_format"), None)
            if found is not None and isinstance(found.params, EoriParams):
                cached = (found.id, eori_formats(found.params, self._ref))
            else:  # the pack has no (enabled) EORI rule: the generic form still holds
                cached = ("generic EORI form", EoriFormats(self._ref.countries))
            self._eori[pack.ref] = cached
        return cached

    def validate(
        self, declaration: DeclarationModel, *, lrn_in_use: LrnLookup | None = None, today: date | None = None
    ) -> list[Finding]:
        """Every finding of every enabled rule, in pack order; empty when the declaration is clean.

        `lrn_in_use(declarant_eori, lrn)` tells whether the declarant already used the LRN; without
        it the LRN rule is not checked. `today` picks the pack version in effect (default: today).
        """
        pack = self.pack_for(today)
        return evaluate(pack, make_context(declaration, self._ref, lrn_in_use))
