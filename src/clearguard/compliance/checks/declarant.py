"""Checks that need the caller's knowledge of earlier declarations, through a callable it passes."""

from __future__ import annotations

from clearguard.compliance.checks.base import NO_HITS, Context, Evaluator, Hit, NoParams, register
from clearguard.compliance.reference import ReferenceData


@register("lrn_unique", NoParams, ["lrn", "declarant"])
def lrn_unique(params: NoParams, ref: ReferenceData) -> Evaluator:
    """The LRN is not already used by the same declarant (checked only when the caller can tell)."""

    def run(ctx: Context) -> tuple[Hit, ...]:
        lookup = ctx.lrn_in_use
        if lookup is None:
            return NO_HITS
        declaration = ctx.declaration
        if not lookup(declaration.declarant.eori, declaration.lrn):
            return NO_HITS
        return (("/lrn", {"lrn": declaration.lrn, "declarant": declaration.declarant.eori}),)

    return run
