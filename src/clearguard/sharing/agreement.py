"""Agreements as signed documents. Pure: no I/O.

The sending administration signs the agreement (`agreement create --out`); the receiving one checks
that signature against the partner it registered, checks that the agreement names it as recipient,
and countersigns the exact bytes it accepted (`agreement accept`); the sender imports the
countersignature (`agreement countersign`, or through its inbox)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from joserfc.jwk import OKPKey

from clearguard.sharing import jose
from clearguard.sharing.disclosure import SHAREABLE
from clearguard.sharing.errors import SharingInputError

FORMAT: Final = "clearguard/sharing-agreement/v1"
COUNTER_FORMAT: Final = "clearguard/sharing-countersignature/v1"
TYP: Final = "clearguard-agreement+jws"
COUNTER_TYP: Final = "clearguard-countersignature+jws"
_ID = re.compile(r"agr-[0-9a-f]{32}")
_FIELDS: Final = frozenset(
    {
        "format", "id", "sender", "recipient", "purpose", "legal_basis", "categories", "fields",
        "pseudonymise", "valid_from", "valid_until", "max_per_day", "retention_days", "created_at",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Terms:
    id: str
    sender_kid: str
    recipient_kid: str
    purpose: str
    legal_basis: str
    categories: tuple[str, ...]
    fields: tuple[str, ...]
    pseudonymise: bool
    valid_from: date
    valid_until: date
    max_per_day: int | None
    retention_days: int

    def payload(self, created_at: datetime) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "sender": self.sender_kid,
            "recipient": self.recipient_kid,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "categories": list(self.categories),
            "fields": list(self.fields),
            "pseudonymise": self.pseudonymise,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "max_per_day": self.max_per_day,
            "retention_days": self.retention_days,
            "created_at": created_at.astimezone(UTC).isoformat(),
        }


def check_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise SharingInputError(f"agreement id {value[:60]!r}: expected agr- and 32 hex digits", field="agreement")
    return value


def sign(terms: Terms, key: OKPKey, created_at: datetime) -> str:
    return jose.sign(terms.payload(created_at), key, typ=TYP)


def sender_of(document: str) -> str:
    """The kid that claims to have signed an agreement (checked by `parse`)."""
    header, _ = jose.unverified(document, what="agreement", typ=TYP)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise SharingInputError("agreement: no kid in its header", field="agreement")
    return kid


def _date(payload: dict[str, Any], key: str) -> date:
    try:
        return date.fromisoformat(str(payload[key]))
    except ValueError:
        raise SharingInputError(f"agreement: {key} must be a date (YYYY-MM-DD)", field=key) from None


def parse(document: str, sender_key: OKPKey) -> Terms:
    """The terms of an agreement `sender_key` signed; SharingInputError otherwise."""
    payload = jose.verify(document, sender_key, what="agreement", typ=TYP)
    if set(payload) != _FIELDS or payload["format"] != FORMAT:
        raise SharingInputError("agreement: not a clearguard/sharing-agreement/v1 document", field="agreement")
    if payload["sender"] != sender_key.thumbprint():
        raise SharingInputError("agreement: its sender is not the key that signed it", field="agreement")
    categories = payload["categories"]
    if (
        not isinstance(categories, list)
        or not categories
        or not all(isinstance(c, str) and c in {s.value for s in SHAREABLE} for c in categories)
    ):
        raise SharingInputError("agreement: categories must be shareable data categories", field="categories")
    fields = payload["fields"]
    if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
        raise SharingInputError("agreement: fields must be a list of field paths", field="fields")
    max_per_day = payload["max_per_day"]
    if max_per_day is not None and (not isinstance(max_per_day, int) or max_per_day < 1):
        raise SharingInputError("agreement: max_per_day must be a positive integer", field="max_per_day")
    retention = payload["retention_days"]
    if not isinstance(retention, int) or not 1 <= retention <= 3650:
        raise SharingInputError("agreement: retention_days must be 1 to 3650", field="retention_days")
    terms = Terms(
        id=check_id(str(payload["id"])),
        sender_kid=str(payload["sender"]),
        recipient_kid=str(payload["recipient"]),
        purpose=str(payload["purpose"]),
        legal_basis=str(payload["legal_basis"]),
        categories=tuple(categories),
        fields=tuple(fields),
        pseudonymise=bool(payload["pseudonymise"]),
        valid_from=_date(payload, "valid_from"),
        valid_until=_date(payload, "valid_until"),
        max_per_day=max_per_day,
        retention_days=retention,
    )
    if terms.valid_until < terms.valid_from:
        raise SharingInputError("agreement: valid_until is before valid_from", field="valid_until")
    return terms


def digest(document: str) -> str:
    return hashlib.sha256(document.strip().encode()).hexdigest()


def countersign(document: str, terms: Terms, key: OKPKey, now: datetime) -> str:
    payload = {
        "format": COUNTER_FORMAT,
        "agreement": terms.id,
        "agreement_sha256": digest(document),
        "accepted_by": key.thumbprint(),
        "accepted_at": now.astimezone(UTC).isoformat(),
    }
    return jose.sign(payload, key, typ=COUNTER_TYP)


def counter_agreement_id(countersignature: str) -> str:
    _header, payload = jose.unverified(countersignature, what="countersignature", typ=COUNTER_TYP)
    return check_id(str(payload.get("agreement", "")))


def check_countersignature(countersignature: str, document: str, terms: Terms, recipient_key: OKPKey) -> None:
    """SharingInputError unless `recipient_key` countersigned exactly `document`."""
    payload = jose.verify(countersignature, recipient_key, what="countersignature", typ=COUNTER_TYP)
    if (
        payload.get("format") != COUNTER_FORMAT
        or payload.get("agreement") != terms.id
        or payload.get("agreement_sha256") != digest(document)
        or payload.get("accepted_by") != terms.recipient_kid
    ):
        raise SharingInputError("countersignature: it does not accept this agreement", field="countersignature")
