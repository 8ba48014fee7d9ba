"""Currency checks: exchange rates and the H7 low-value ceiling in EUR."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from clearguard.compliance.checks.base import NO_HITS, Context, Evaluator, Hit, NoParams, Params, register
from clearguard.compliance.reference import ReferenceData

ONE = Decimal(1)
CENT = Decimal("0.01")


@register("exchange_rate_required", NoParams, ["currency", "declaring_currency", "country"])
def exchange_rate_required(params: NoParams, ref: ReferenceData) -> Evaluator:
    """An invoice in another currency than the declaring country's carries an exchange rate."""

    def run(ctx: Context) -> tuple[Hit, ...]:
        invoice = ctx.declaration.invoice
        # an unknown declaring currency is left undecided: the country rule reports the office
        if ctx.declaring_currency is None or invoice.currency == ctx.declaring_currency:
            return NO_HITS
        if invoice.exchange_rate is not None:
            return NO_HITS
        return (
            (
                "/invoice/exchange_rate",
                {
                    "currency": invoice.currency,
                    "declaring_currency": ctx.declaring_currency,
                    "country": ctx.declaring_country,
                },
            ),
        )

    return run


@register("exchange_rate_superfluous", NoParams, ["value", "currency"])
def exchange_rate_superfluous(params: NoParams, ref: ReferenceData) -> Evaluator:
    """An invoice in the declaring country's own currency carries no exchange rate other than 1."""

    def run(ctx: Context) -> tuple[Hit, ...]:
        invoice = ctx.declaration.invoice
        rate = invoice.exchange_rate
        if rate is None or rate == ONE or invoice.currency != ctx.declaring_currency:
            return NO_HITS
        return (("/invoice/exchange_rate", {"value": rate, "currency": invoice.currency}),)

    return run


class RatesParams(Params):
    # EUR per one unit of each currency: converts an invoice when no usable exchange rate is given
    rates_to_eur: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("rates_to_eur")
    @classmethod
    def _codes_and_positive(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in rates.items():
            if len(code) != 3 or not code.isalpha() or not code.isupper():
                raise ValueError(f"{code!r} is not an ISO 4217 code")
            if rate <= 0:
                raise ValueError(f"rate for {code} must be above zero")
        return rates


class LowValueParams(RatesParams):
    limit_eur: Decimal = Field(gt=0)


def to_eur(ctx: Context, rates: dict[str, Decimal]) -> Decimal | None:
    """The invoice amount in EUR, or None when no rate says what it is worth.

    A declaration lodged in a euro country converts with its own exchange rate (declaring currency
    per unit of invoice currency); elsewhere, and when no rate is given, with the pack's table.
    """
    invoice = ctx.declaration.invoice
    amount, currency, rate = invoice.amount, invoice.currency, invoice.exchange_rate
    if currency == "EUR":
        return amount
    if ctx.declaring_currency == "EUR" and rate is not None and rate > 0:
        return amount * rate
    table_rate = rates.get(currency)
    if table_rate is not None:
        return amount * table_rate
    if rate is not None and rate > 0 and ctx.declaring_currency is not None:
        declaring_rate = rates.get(ctx.declaring_currency)
        if declaring_rate is not None:  # invoice -> declaring currency -> EUR
            return amount * rate * declaring_rate
    return None


@register("low_value_limit", LowValueParams, ["total", "currency", "total_eur", "limit"])
def low_value_limit(params: LowValueParams, ref: ReferenceData) -> Evaluator:
    """An H7 consignment is worth at most the low-value limit (150 EUR)."""
    rates, limit = dict(params.rates_to_eur), params.limit_eur

    def run(ctx: Context) -> tuple[Hit, ...]:
        if ctx.h7 is None:
            return NO_HITS
        eur = to_eur(ctx, rates)
        if eur is None or eur <= limit:
            return NO_HITS
        invoice = ctx.declaration.invoice
        return (
            (
                "/invoice/amount",
                {
                    "total": invoice.amount,
                    "currency": invoice.currency,
                    "total_eur": eur.quantize(CENT),
                    "limit": limit,
                },
            ),
        )

    return run


@register("low_value_rate_unknown", RatesParams, ["currency"])
def low_value_rate_unknown(params: RatesParams, ref: ReferenceData) -> Evaluator:
    """An H7 invoice currency can be converted to EUR, so the low-value limit can be checked."""
    rates = dict(params.rates_to_eur)

    def run(ctx: Context) -> tuple[Hit, ...]:
        if ctx.h7 is None or to_eur(ctx, rates) is not None:
            return NO_HITS
        return (("/invoice/currency", {"currency": ctx.declaration.invoice.currency}),)

    return run
