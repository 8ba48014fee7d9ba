"""Checks of codes against reference data: HS 2022, countries, currencies, Incoterms, EORI, containers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import Field, field_validator

from clearguard.compliance.checks.base import (
    NO_HITS,
    Context,
    Evaluator,
    Hit,
    NoParams,
    Params,
    or_list,
    parties,
    register,
)
from clearguard.compliance.reference import ReferenceData, container_id_problem
from clearguard.compliance.reference.identifiers import EoriFormat, EoriFormats


class CommodityCodeParams(Params):
    lengths: list[int] = Field(default=[6, 8, 10], min_length=1)  # HS6, CN8, TARIC10


@register("commodity_code_length", CommodityCodeParams, ["value", "length", "lengths"])
def commodity_code_length(params: CommodityCodeParams, ref: ReferenceData) -> Evaluator:
    """Each item's commodity code has one of the allowed lengths (6 HS, 8 CN, 10 TARIC digits)."""
    allowed = frozenset(params.lengths)
    lengths = or_list(sorted(allowed))

    def run(ctx: Context) -> Iterator[Hit]:
        for index, item in enumerate(ctx.items):
            code = item.commodity_code
            if len(code) not in allowed:
                yield (
                    f"/items/{index}/commodity_code",
                    {"value": code, "length": len(code), "lengths": lengths},
                )

    return run


@register("hs_subheading", NoParams, ["value", "subheading"])
def hs_subheading(params: NoParams, ref: ReferenceData) -> Evaluator:
    """The first six digits of each commodity code are a level-6 HS 2022 subheading."""
    subheadings = ref.hs.subheadings

    def run(ctx: Context) -> Iterator[Hit]:
        for index, item in enumerate(ctx.items):
            code = item.commodity_code
            # shorter codes are the length rule's finding; one cause, one finding
            if len(code) >= 6 and code[:6] not in subheadings:
                yield f"/items/{index}/commodity_code", {"value": code, "subheading": code[:6]}

    return run


class CountryParams(Params):
    also_allowed: list[str] = Field(default_factory=list)  # e.g. EU for "European Union" origin


@register("country_codes", CountryParams, ["value"])
def country_codes(params: CountryParams, ref: ReferenceData) -> Evaluator:
    """Every country field, and the country of the office of presentation, is ISO 3166-1 alpha-2."""
    known = ref.countries | frozenset(params.also_allowed)

    def run(ctx: Context) -> list[Hit]:
        declaration = ctx.declaration
        hits: list[Hit] = []
        if ctx.declaring_country not in known:
            hits.append(("/office_of_presentation", {"value": ctx.declaring_country}))
        for pointer, party in parties(declaration):
            if party.address.country not in known:
                hits.append((f"{pointer}/address/country", {"value": party.address.country}))
        h1 = ctx.h1
        if h1 is not None:
            if h1.country_of_dispatch not in known:
                hits.append(("/country_of_dispatch", {"value": h1.country_of_dispatch}))
            nationality = h1.transport.nationality_of_means
            if nationality is not None and nationality not in known:
                hits.append(("/transport/nationality_of_means", {"value": nationality}))
        for index, item in enumerate(ctx.items):
            if item.origin_country not in known:
                hits.append((f"/items/{index}/origin_country", {"value": item.origin_country}))
        return hits

    return run


class CurrencyParams(Params):
    # ISO 4217 codes that are not money one invoices in: precious metals, fund and test codes, and
    # withdrawn currencies (ISO keeps their codes; pycountry may still list them).
    excluded: list[str] = Field(default_factory=list)


@register("currency_code", CurrencyParams, ["value"])
def currency_code(params: CurrencyParams, ref: ReferenceData) -> Evaluator:
    """The invoice currency is a current ISO 4217 currency."""
    accepted = ref.currencies - frozenset(params.excluded)

    def run(ctx: Context) -> tuple[Hit, ...]:
        currency = ctx.declaration.invoice.currency
        if currency in accepted:
            return NO_HITS
        return (("/invoice/currency", {"value": currency}),)

    return run


class IncotermParams(Params):
    terms: list[str] | None = None  # None: the eleven Incoterms 2020 rules


@register("incoterm", IncotermParams, ["value", "terms"])
def incoterm(params: IncotermParams, ref: ReferenceData) -> Evaluator:
    """The delivery terms of an H1 name an Incoterms 2020 rule."""
    terms = frozenset(params.terms) if params.terms is not None else ref.incoterms
    listed = or_list(sorted(terms))

    def run(ctx: Context) -> tuple[Hit, ...]:
        h1 = ctx.h1
        if h1 is None or h1.delivery_terms.incoterm in terms:
            return NO_HITS
        return (("/delivery_terms/incoterm", {"value": h1.delivery_terms.incoterm, "terms": listed}),)

    return run


class EoriFormatSpec(Params):
    """One country's published format: a regular expression over what follows the country code
    (uppercase letters and digits only), and the same rule in words for the finding."""

    pattern: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=200)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return value


class EoriParams(Params):
    national: dict[str, EoriFormatSpec] = Field(default_factory=dict)

    @field_validator("national")
    @classmethod
    def _countries(cls, value: dict[str, EoriFormatSpec]) -> dict[str, EoriFormatSpec]:
        for country in value:
            if not (len(country) == 2 and country.isascii() and country.isalpha() and country.isupper()):
                raise ValueError(f"{country!r} is not a 2-letter country code")
        return value


def eori_formats(params: EoriParams, ref: ReferenceData) -> EoriFormats:
    """The formats a rule's params state; countries not listed take the generic form."""
    unknown = sorted(set(params.national) - ref.countries)
    if unknown:
        raise ValueError(f"national: {', '.join(unknown)} not ISO 3166-1 country codes")
    national = {c: EoriFormat(re.compile(f.pattern), f.text) for c, f in params.national.items()}
    return EoriFormats(ref.countries, national)


@register("eori_format", EoriParams, ["value", "reason"])
def eori_format(params: EoriParams, ref: ReferenceData) -> Evaluator:
    """Every EORI number present has its issuing country's published format (params.national), or
    the generic form (country code and up to 15 alphanumerics) for other countries."""
    formats = eori_formats(params, ref)

    def run(ctx: Context) -> Iterator[Hit]:
        for pointer, party in parties(ctx.declaration):
            eori = party.eori
            if eori is not None:
                reason = formats.problem(eori)
                if reason is not None:
                    yield f"{pointer}/eori", {"value": eori, "reason": reason}

    return run


@register("container_id", NoParams, ["value", "reason"])
def container_id(params: NoParams, ref: ReferenceData) -> Evaluator:
    """Every container id is an ISO 6346 id whose check digit matches."""

    def run(ctx: Context) -> Iterator[Hit]:
        h1 = ctx.h1
        if h1 is None:
            return
        for index, value in enumerate(h1.transport.container_ids):
            reason = container_id_problem(value)
            if reason is not None:
                yield f"/transport/container_ids/{index}", {"value": value, "reason": reason}

    return run
