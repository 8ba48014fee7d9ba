"""The declaration model: the H1 and H7 data sets as strict pydantic models, each field tagged with
its data category.

A base-layer type of its own, below every capability that reads a declaration: compliance checks it,
the declarations lifecycle parses, splits and stores it, risk reads its payload. Nothing here does I/O
or imports a capability."""

from clearguard.declaration_model.declaration import (
    LEGAL_BASES,
    PERSON_PARTIES,
    PURPOSES,
    Address,
    Contact,
    DecimalString,
    Declaration,
    DeclarationModel,
    DeliveryTerms,
    Document,
    H1Declaration,
    H1Item,
    H7Declaration,
    H7Item,
    Invoice,
    OptionalEoriParty,
    Packages,
    Trader,
    Transport,
    tagged,
    why,
)

__all__ = [
    "LEGAL_BASES",
    "PERSON_PARTIES",
    "PURPOSES",
    "Address",
    "Contact",
    "DecimalString",
    "Declaration",
    "DeclarationModel",
    "DeliveryTerms",
    "Document",
    "H1Declaration",
    "H1Item",
    "H7Declaration",
    "H7Item",
    "Invoice",
    "OptionalEoriParty",
    "Packages",
    "Trader",
    "Transport",
    "tagged",
    "why",
]
