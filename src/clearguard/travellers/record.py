"""The traveller clearance record as it comes in, and its validation (pure: no I/O, no database).

A record holds the traveller's document number and nationality, a face template (the biometric
category) and the goods declared; everything about the traveller is sealed at rest. Bad input gives
one error naming the field and the rule.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Sequence
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from clearguard.compliance.reference.countries import load_countries
from clearguard.travellers.errors import TravellerInputInvalid

TEMPLATE_MIN: Final = 64
TEMPLATE_MAX: Final = 2048
GOODS_MAX: Final = 50
GOODS_TEXT_MAX: Final = 200
DOCUMENT_MAX: Final = 20
DeclaredVia = Literal["oral", "red_channel"]
DECLARED_VIA: Final = ("oral", "red_channel")

_DOCUMENT: Final = re.compile(r"[A-Z0-9<]{1,20}")
_NATIONALITY: Final = re.compile(r"[A-Z]{2}")
_OFFICE: Final = re.compile(r"[A-Z]{2}[A-Z0-9]{6}")  # as a declaration's office_of_presentation
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_COUNTRIES: Final = load_countries()


def normalise_document(value: str) -> str:
    """Upper case, no surrounding spaces, no trailing MRZ fillers: 'ab123456<<' -> 'AB123456'."""
    return value.strip().upper().rstrip("<")


def template_fingerprint(template: Sequence[float]) -> dict[str, Any]:
    """What a listing shows of a template instead of its values: its length and a SHA-256 prefix of
    its values as big-endian doubles."""
    digest = hashlib.sha256(struct.pack(f">{len(template)}d", *template)).hexdigest()
    return {"length": len(template), "sha256": digest[:16]}


class TravellerInput(BaseModel):
    """One traveller clearance record as an officer enters it. Strict: JSON types as sent, unknown
    fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    document_number: str
    nationality: str
    template: list[float]
    declared_via: DeclaredVia
    goods: list[str]
    office: str

    @field_validator("document_number", "nationality", "office", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # Case and surrounding spaces do not matter; anything but text is left to strict validation.
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("document_number")
    @classmethod
    def _document(cls, value: str) -> str:
        if not _DOCUMENT.fullmatch(value) or not normalise_document(value):
            raise ValueError(f"1 to {DOCUMENT_MAX} of A-Z, 0-9 and <, with at least one letter or digit")
        return value

    @field_validator("nationality")
    @classmethod
    def _nationality(cls, value: str) -> str:
        if not _NATIONALITY.fullmatch(value):
            raise ValueError("an ISO 3166-1 alpha-2 code, two letters")
        if value not in _COUNTRIES:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value

    @field_validator("office")
    @classmethod
    def _office(cls, value: str) -> str:
        if not _OFFICE.fullmatch(value):
            raise ValueError("a customs office reference number such as GB000085")
        return value

    @field_validator("template", mode="before")
    @classmethod
    def _template(cls, value: Any) -> Any:
        # Checked before the items, so a vector of a million values is refused at once.
        if not isinstance(value, list):
            raise ValueError(f"a list of {TEMPLATE_MIN} to {TEMPLATE_MAX} numbers, not {type(value).__name__}")
        if not TEMPLATE_MIN <= len(value) <= TEMPLATE_MAX:
            raise ValueError(f"{len(value)} values; a template has {TEMPLATE_MIN} to {TEMPLATE_MAX}")
        out: list[float] = []
        for i, item in enumerate(value):
            if type(item) is float:
                number = item
            elif type(item) is int:
                try:
                    number = float(item)
                except OverflowError:
                    raise ValueError(f"item {i} is out of range") from None
            else:
                raise ValueError(f"item {i} is {type(item).__name__}, not a number")
            if not math.isfinite(number):
                raise ValueError(f"item {i} is not finite (NaN and infinity are refused)")
            out.append(number)
        return out

    @field_validator("goods", mode="before")
    @classmethod
    def _goods(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError(f"a list of 1 to {GOODS_MAX} texts, not {type(value).__name__}")
        if not 1 <= len(value) <= GOODS_MAX:
            raise ValueError(f"{len(value)} entries; 1 to {GOODS_MAX} are allowed")
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValueError(f"entry {i} is {type(item).__name__}, not text")
            text = item.strip()
            if not 1 <= len(text) <= GOODS_TEXT_MAX:
                raise ValueError(f"entry {i} has {len(text)} characters; 1 to {GOODS_TEXT_MAX} are allowed")
            if _CONTROL.search(text):
                raise ValueError(f"entry {i} contains a control character")
            out.append(text)
        return out


def _message(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors(include_url=False)[0]
    loc = [str(p) for p in first["loc"]]
    field = loc[0] if loc else "record"
    where = ".".join(loc) if loc else "record"
    kind = first["type"]
    if kind == "extra_forbidden":
        return field, f"{where}: unknown field, not part of a traveller record"
    if kind == "missing":
        return field, f"{where}: required field is missing"
    if kind == "literal_error" and field == "declared_via":
        return field, f"declared_via: one of {', '.join(DECLARED_VIA)}"
    msg = str(first["msg"]).removeprefix("Value error, ")
    return field, f"{where}: {msg[:1].lower() + msg[1:] if msg else kind}"


def parse_input(data: Any) -> TravellerInput:
    """A validated record from decoded JSON (or a dict); TravellerInputInvalid naming the field otherwise."""
    if not isinstance(data, dict):
        raise TravellerInputInvalid(f"record: a JSON object, not {type(data).__name__}", field="record")
    try:
        return TravellerInput.model_validate(data)
    except ValidationError as exc:
        field, message = _message(exc)
        raise TravellerInputInvalid(message, field=field) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(raw: bytes | str, *, source: str) -> Any:
    """JSON text decoded strictly: no NaN or Infinity literals, no duplicate keys."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise TravellerInputInvalid(f"{source}: duplicate key {key!r}", field=key)
            out[key] = value
        return out

    try:
        return json.loads(raw, object_pairs_hook=pairs, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise TravellerInputInvalid(f"{source}: not UTF-8 text", field=source) from None
    except json.JSONDecodeError as exc:
        raise TravellerInputInvalid(
            f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", field=source
        ) from None
    except ValueError as exc:
        raise TravellerInputInvalid(f"{source}: {exc}", field=source) from None
    except RecursionError:
        raise TravellerInputInvalid(f"{source}: JSON nested too deeply", field=source) from None
