"""Arithmetic checks: masses and amounts add up, nothing is negative."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from pydantic import Field

from clearguard.compliance.checks.base import NO_HITS, Context, Evaluator, Hit, NoParams, Params, register
from clearguard.compliance.reference import ReferenceData
from clearguard.declaration_model import H1Declaration

ZERO = Decimal(0)


@register("net_mass_within_gross", NoParams, ["net", "gross"])
def net_mass_within_gross(params: NoParams, ref: ReferenceData) -> Evaluator:
    """Each H1 item's net mass is at most its gross mass."""

    def run(ctx: Context) -> Iterator[Hit]:
        h1 = ctx.h1
        if h1 is None:
            return
        for index, item in enumerate(h1.items):
            if item.net_mass_kg > item.gross_mass_kg:
                yield f"/items/{index}/net_mass_kg", {"net": item.net_mass_kg, "gross": item.gross_mass_kg}

    return run


class ToleranceParams(Params):
    tolerance: Decimal = Field(ge=0)


@register("gross_mass_total", ToleranceParams, ["declared", "computed", "tolerance"])
def gross_mass_total(params: ToleranceParams, ref: ReferenceData) -> Evaluator:
    """An H1's gross mass equals the sum of its items' gross masses, within the tolerance."""
    tolerance = params.tolerance

    def run(ctx: Context) -> tuple[Hit, ...]:
        h1 = ctx.h1
        if h1 is None:
            return NO_HITS
        computed = sum((item.gross_mass_kg for item in h1.items), ZERO)
        if abs(h1.gross_mass_kg - computed) <= tolerance:
            return NO_HITS
        declared = h1.gross_mass_kg
        values: dict[str, object] = {"declared": declared, "computed": computed, "tolerance": tolerance}
        return (("/gross_mass_kg", values),)

    return run


@register("invoice_total", ToleranceParams, ["declared", "computed", "tolerance", "basis"])
def invoice_total(params: ToleranceParams, ref: ReferenceData) -> Evaluator:
    """The invoice amount equals the sum of item prices (H1) or intrinsic values (H7), within tolerance."""
    tolerance = params.tolerance

    def run(ctx: Context) -> tuple[Hit, ...]:
        declaration = ctx.declaration
        if isinstance(declaration, H1Declaration):
            computed = sum((item.item_price for item in declaration.items), ZERO)
            basis = "item prices"
        else:
            computed = sum((item.intrinsic_value for item in declaration.items), ZERO)
            basis = "intrinsic values"
        declared = declaration.invoice.amount
        if abs(declared - computed) <= tolerance:
            return NO_HITS
        return (
            (
                "/invoice/amount",
                {"declared": declared, "computed": computed, "tolerance": tolerance, "basis": basis},
            ),
        )

    return run


@register("non_negative", NoParams, ["value"])
def non_negative(params: NoParams, ref: ReferenceData) -> Evaluator:
    """Amounts and masses are not negative and an exchange rate is above zero."""

    def run(ctx: Context) -> list[Hit]:
        declaration = ctx.declaration
        hits: list[Hit] = []
        invoice = declaration.invoice
        if invoice.amount < ZERO:
            hits.append(("/invoice/amount", {"value": invoice.amount}))
        if invoice.exchange_rate is not None and invoice.exchange_rate <= ZERO:
            hits.append(("/invoice/exchange_rate", {"value": invoice.exchange_rate}))
        h1 = ctx.h1
        if h1 is not None:
            if h1.gross_mass_kg < ZERO:
                hits.append(("/gross_mass_kg", {"value": h1.gross_mass_kg}))
            for index, item in enumerate(h1.items):
                for name, value in (
                    ("net_mass_kg", item.net_mass_kg),
                    ("gross_mass_kg", item.gross_mass_kg),
                    ("item_price", item.item_price),
                ):
                    if value < ZERO:
                        hits.append((f"/items/{index}/{name}", {"value": value}))
        h7 = ctx.h7
        if h7 is not None:
            for index, h7_item in enumerate(h7.items):
                if h7_item.intrinsic_value < ZERO:
                    hits.append((f"/items/{index}/intrinsic_value", {"value": h7_item.intrinsic_value}))
                mass = h7_item.gross_mass_kg
                if mass is not None and mass < ZERO:
                    hits.append((f"/items/{index}/gross_mass_kg", {"value": mass}))
        return hits

    return run
