"""From raw bytes to a declaration model, or a one-line cause naming the field.

Unreadable input (not UTF-8, not JSON, too large, not an object) is an InputError; readable input
that breaks the schema gives findings (rule CG-SCHEMA-001) with a JSON pointer, all at once.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import TypeAdapter, ValidationError

from clearguard.compliance.findings import Finding, Severity
from clearguard.declaration_model import Declaration, DeclarationModel
from clearguard.declarations.categorised import pointer
from clearguard.errors import InputError

SCHEMA_RULE = "CG-SCHEMA-001"
_ADAPTER: TypeAdapter[DeclarationModel] = TypeAdapter(Declaration)  # type: ignore[arg-type,unused-ignore]


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InputError(f"{key}: duplicate key in JSON object", field=key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise InputError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # 1e999 reads as infinity: as unrepresentable in a declaration as the Infinity literal.
        raise InputError(f"number {text[:20]} is out of range")
    return value


def parse_json(raw: bytes | str, *, max_bytes: int, source: str = "input") -> dict[str, Any]:
    """A JSON object from raw bytes; InputError with a one-line cause otherwise."""
    if isinstance(raw, bytes):
        if len(raw) > max_bytes:
            raise InputError(f"{source}: {len(raw)} bytes is larger than the limit of {max_bytes} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not UTF-8 (invalid byte at offset {exc.start})") from None
    else:
        text = raw
        if len(text.encode("utf-8")) > max_bytes:
            raise InputError(f"{source}: larger than the limit of {max_bytes} bytes")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        doc = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant, parse_float=_finite
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError:
        # Python refuses integers of more than 4300 digits (int_max_str_digits): not a number we take.
        raise InputError(f"{source}: a number has too many digits") from None
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise InputError(f"{source}: a declaration is a JSON object, not {type(doc).__name__}")
    return doc


def _message(error: Any) -> str:
    loc = [str(p) for p in error["loc"] if p not in ("H1", "H7")]
    field = ".".join(loc) if loc else "declaration"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{field}: unknown field, not part of the declaration format"
    if kind == "missing":
        return f"{field}: required field is missing"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return 'type: must be "H1" or "H7"'
    msg = str(error["msg"])
    msg = msg.removeprefix("Value error, ")
    return f"{field}: {msg[0].lower() + msg[1:] if msg else kind}"


def findings_from_validation_error(exc: ValidationError) -> list[Finding]:
    findings: list[Finding] = []
    for error in exc.errors(include_url=False):
        loc = [p for p in error["loc"] if p not in ("H1", "H7")]
        ptr = pointer(*loc) if loc else ""
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            ptr = "/type"
        findings.append(Finding(SCHEMA_RULE, Severity.ERROR, ptr, _message(error)))
    return findings


def to_model(doc: dict[str, Any]) -> DeclarationModel | list[Finding]:
    """The validated model, or every schema finding at once."""
    try:
        return _ADAPTER.validate_python(doc, strict=True)
    except ValidationError as exc:
        return findings_from_validation_error(exc)
