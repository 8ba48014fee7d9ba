"""Evaluation: every enabled rule of a pack over one declaration, every finding at once.

Pure: reads the declaration model and reference data, does no I/O (the LRN lookup is the caller's).
"""

from __future__ import annotations

from clearguard.compliance.checks import Context, LrnLookup
from clearguard.compliance.findings import Finding
from clearguard.compliance.reference import ReferenceData
from clearguard.compliance.rule_pack import RulePack
from clearguard.declaration_model import DeclarationModel, H1Declaration


def make_context(declaration: DeclarationModel, ref: ReferenceData, lrn_in_use: LrnLookup | None) -> Context:
    country = declaration.office_of_presentation[:2]
    if isinstance(declaration, H1Declaration):
        return Context(
            declaration,
            declaration,
            None,
            declaration.items,
            country,
            ref.country_currency.get(country),
            lrn_in_use,
        )
    return Context(
        declaration,
        None,
        declaration,
        declaration.items,
        country,
        ref.country_currency.get(country),
        lrn_in_use,
    )


def evaluate(pack: RulePack, context: Context) -> list[Finding]:
    findings: list[Finding] = []
    for rule in pack.rules:
        for pointer, values in rule.run(context):
            findings.append(rule.finding(pointer, values))
    return findings
