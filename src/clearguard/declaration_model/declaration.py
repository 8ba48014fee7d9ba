"""H1 (standard import) and H7 (low-value consignment) declarations, as pydantic v2 models.

Strict: unknown fields are refused, nothing is coerced (no "1" for 1, no false for 0), amounts and
masses are decimal strings. Every field carries its data category (`x-category` in the JSON schema);
a field without its own tag inherits its parent's, so a party's name and address take the party's
category (confidential for a company, personal for a natural person). Likewise every field carries
the purpose it is collected for (`x-purpose`) and the legal basis of that processing
(`x-legal-basis`), keys of PURPOSES and LEGAL_BASES below, inherited downward the same way: the field
inventory and the records of processing (clearguard.privacy) are generated from these tags.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema

from clearguard.categories import DataCategory

_DECIMAL = re.compile(r"-?\d{1,15}(\.\d{1,6})?")


def _decimal_from_string(value: object) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "12.50", not a JSON number')
    if not _DECIMAL.fullmatch(value):
        raise ValueError("must be a plain decimal string (digits, optional point and up to 6 decimals)")
    return Decimal(value)


DecimalString = Annotated[
    Decimal,
    PlainValidator(_decimal_from_string),
    PlainSerializer(lambda d: str(d), return_type=str),
    WithJsonSchema({"type": "string", "pattern": _DECIMAL.pattern}),
]


# Why each field is collected (GDPR Art. 5(1)(b), 30(1)(b)): the keys the model's `x-purpose` tags use.
PURPOSES: dict[str, str] = {
    "clearance": "customs clearance of the goods under the declared procedure: acceptance, checks, release "
    "(UCC Art. 158-195)",
    "party-identification": "identifying the persons responsible for the declaration and the goods "
    "(UCC Art. 5(15), 9, 170)",
    "contact": "contacting a party about its declaration (queries, documents, controls)",
    "duty-assessment": "tariff classification, origin and customs value: calculating duties and taxes "
    "(UCC Art. 56-76)",
    "risk-and-control": "risk analysis and customs controls of the goods and their transport (UCC Art. 46-47)",
    "supporting-documents": "checking the documents that support the declaration (UCC Art. 163)",
}
# On which ground (GDPR Art. 6(1)): the keys the model's `x-legal-basis` tags use.
LEGAL_BASES: dict[str, str] = {
    "ucc-declaration": "GDPR Art. 6(1)(c) legal obligation: Regulation (EU) No 952/2013 (UCC) Art. 15 and "
    "158-163, data requirements of Delegated Regulation (EU) 2015/2446 Annex B",
    "ucc-valuation": "GDPR Art. 6(1)(c) legal obligation: UCC Art. 56-76 (tariff, origin, customs value)",
    "ucc-controls": "GDPR Art. 6(1)(e) public task: UCC Art. 46-47 (risk management and customs controls)",
}


def tagged(
    category: DataCategory | None = None, *, purpose: str | None = None, basis: str | None = None, **kwargs: Any
) -> Any:
    """A field with its data category, and where given its purpose and legal basis, recorded in the
    JSON schema (`x-category`, `x-purpose`, `x-legal-basis`)."""
    extra: dict[str, Any] = {}
    if category is not None:
        extra["x-category"] = category.value
    if purpose is not None:
        if purpose not in PURPOSES:
            raise ValueError(f"purpose: unknown {purpose!r}, one of {sorted(PURPOSES)}")
        extra["x-purpose"] = purpose
    if basis is not None:
        if basis not in LEGAL_BASES:
            raise ValueError(f"basis: unknown {basis!r}, one of {sorted(LEGAL_BASES)}")
        extra["x-legal-basis"] = basis
    return Field(json_schema_extra=extra, **kwargs)


def why(purpose: str, basis: str, **kwargs: Any) -> Any:
    """A field's purpose and legal basis, its category left to what it holds (or its parent's)."""
    return tagged(None, purpose=purpose, basis=basis, **kwargs)


C = DataCategory
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Address(Strict):
    street: str = Field(min_length=1, max_length=70)
    city: str = Field(min_length=1, max_length=35)
    postcode: str | None = Field(default=None, min_length=1, max_length=17)
    country: Country = tagged(C.CODE)


class Contact(Strict):
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=35, pattern=r"^\+?[0-9 ()./-]{3,35}$")


class Trader(Strict):
    """An economic operator identified by its EORI number."""

    eori: str = Field(min_length=3, max_length=17)
    name: str = Field(min_length=1, max_length=70)
    address: Address
    contact: Contact | None = tagged(C.PERSONAL, purpose="contact", default=None)


class OptionalEoriParty(Strict):
    eori: str | None = Field(default=None, min_length=3, max_length=17)
    name: str = Field(min_length=1, max_length=70)
    address: Address
    contact: Contact | None = tagged(C.PERSONAL, purpose="contact", default=None)


class DeliveryTerms(Strict):
    incoterm: str = tagged(C.CODE, min_length=3, max_length=3)
    place: str | None = tagged(C.CONFIDENTIAL, default=None, max_length=35)


class Invoice(Strict):
    currency: str = tagged(C.CODE, pattern=r"^[A-Z]{3}$")
    amount: DecimalString = tagged(C.CONFIDENTIAL)
    exchange_rate: DecimalString | None = tagged(C.TRADE, default=None)


class Transport(Strict):
    mode_at_border: int = tagged(C.CODE, ge=1, le=9)
    container_ids: list[str] = tagged(C.TRADE, default_factory=list, max_length=999)
    nationality_of_means: Country | None = tagged(C.CODE, default=None)


class Packages(Strict):
    kind: str = tagged(C.CODE, pattern=r"^[A-Z0-9]{2}$")
    count: int = tagged(C.TRADE, ge=0, le=99_999_999)


class Document(Strict):
    code: str = tagged(C.CODE, pattern=r"^[A-Z0-9]{4}$")
    reference: str = tagged(C.CONFIDENTIAL, min_length=1, max_length=70)


CommodityCode = Annotated[str, tagged(C.CODE, pattern=r"^[0-9]{1,12}$")]
Description = Annotated[str, tagged(C.TRADE, min_length=1, max_length=512)]


class H1Item(Strict):
    commodity_code: CommodityCode
    description: Description
    origin_country: Country = tagged(C.CODE)
    preferential_origin: bool | None = tagged(C.CODE, default=None)
    net_mass_kg: DecimalString = tagged(C.TRADE)
    gross_mass_kg: DecimalString = tagged(C.TRADE)
    supplementary_units: int | None = tagged(C.TRADE, default=None, ge=0)
    item_price: DecimalString = tagged(C.CONFIDENTIAL)
    valuation_method: int = tagged(C.CODE, ge=1, le=6)
    packages: Packages | None = tagged(C.TRADE, purpose="risk-and-control", basis="ucc-controls", default=None)
    documents: list[Document] = tagged(
        C.CONFIDENTIAL, purpose="supporting-documents", default_factory=list, max_length=99
    )


class H7Item(Strict):
    commodity_code: CommodityCode
    description: Description
    origin_country: Country = tagged(C.CODE)
    intrinsic_value: DecimalString = tagged(C.CONFIDENTIAL)
    gross_mass_kg: DecimalString | None = tagged(C.TRADE, default=None)
    documents: list[Document] = tagged(
        C.CONFIDENTIAL, purpose="supporting-documents", default_factory=list, max_length=99
    )


_CLEARANCE: dict[str, Any] = {"purpose": "clearance", "basis": "ucc-declaration"}
_PARTY: dict[str, Any] = {"purpose": "party-identification", "basis": "ucc-declaration"}
_VALUATION: dict[str, Any] = {"purpose": "duty-assessment", "basis": "ucc-valuation"}
_CONTROL: dict[str, Any] = {"purpose": "risk-and-control", "basis": "ucc-controls"}
Lrn = Annotated[str, tagged(C.CODE, **_CLEARANCE, min_length=1, max_length=22, pattern=r"^[A-Za-z0-9._/-]+$")]
Office = Annotated[str, tagged(C.CODE, **_CLEARANCE, pattern=r"^[A-Z]{2}[A-Z0-9]{6}$")]


class H1Declaration(Strict):
    type: Literal["H1"] = tagged(C.CODE, **_CLEARANCE)
    lrn: Lrn
    declarant: Trader = tagged(C.CONFIDENTIAL, **_PARTY)
    importer: OptionalEoriParty = tagged(C.CONFIDENTIAL, **_PARTY)
    exporter: OptionalEoriParty = tagged(C.CONFIDENTIAL, **_PARTY)
    seller: OptionalEoriParty | None = tagged(C.CONFIDENTIAL, **_VALUATION, default=None)
    buyer: OptionalEoriParty | None = tagged(C.CONFIDENTIAL, **_VALUATION, default=None)
    office_of_presentation: Office
    procedure: str = tagged(C.CODE, **_CLEARANCE, pattern=r"^[0-9]{4}$")
    delivery_terms: DeliveryTerms = why(**_VALUATION)
    invoice: Invoice = why(**_VALUATION)
    transport: Transport = why(**_CONTROL)
    country_of_dispatch: Country = tagged(C.CODE, **_CONTROL)
    total_packages: int = tagged(C.TRADE, **_CONTROL, ge=0, le=99_999_999)
    gross_mass_kg: DecimalString = tagged(C.TRADE, **_CONTROL)
    items: list[H1Item] = why(**_VALUATION, min_length=1, max_length=999)


class H7Declaration(Strict):
    type: Literal["H7"] = tagged(C.CODE, **_CLEARANCE)
    lrn: Lrn
    declarant: Trader = tagged(C.CONFIDENTIAL, **_PARTY)
    consignee: OptionalEoriParty = tagged(C.PERSONAL, **_PARTY)
    consignor: OptionalEoriParty = tagged(C.CONFIDENTIAL, **_PARTY)
    office_of_presentation: Office
    transport_document: str = tagged(C.CONFIDENTIAL, **_CONTROL, min_length=1, max_length=70)
    invoice: Invoice = why(**_VALUATION)
    items: list[H7Item] = why(**_VALUATION, min_length=1, max_length=999)


Declaration = Annotated[H1Declaration | H7Declaration, Field(discriminator="type")]
DeclarationModel = H1Declaration | H7Declaration

# Natural persons among the parties: their fields are encrypted under a data key of their own, so
# one person's data can be erased without touching the trader's.
PERSON_PARTIES: dict[str, frozenset[str]] = {"H1": frozenset(), "H7": frozenset({"consignee"})}
