"""Records of processing activities (GDPR Art. 30(1)), generated, so they cannot drift from the code:
the controller from the settings, purposes, categories and recipients from the field inventory (the
model's tags and the access policy), retention from the retention policies, security measures from
the configuration in effect. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import make_url

from clearguard.access.roles import Role
from clearguard.categories import DataCategory
from clearguard.config import Settings
from clearguard.crypto.envelope import KEY_BYTES
from clearguard.declaration_model import LEGAL_BASES, PERSON_PARTIES, PURPOSES
from clearguard.privacy.inventory import (
    MODELS,
    PARTNER_RECIPIENTS,
    UNKNOWN,
    model_fields,
    recipients,
    stored_records,
)
from clearguard.privacy.ports import RetentionView

HEADINGS = {
    "controller": "Name and contact details of the controller and the data protection officer (Art. 30(1)(a))",
    "purposes": "Purposes of the processing (Art. 30(1)(b))",
    "data_subjects": "Categories of data subjects (Art. 30(1)(c))",
    "personal_data": "Categories of personal data (Art. 30(1)(c))",
    "recipients": "Categories of recipients (Art. 30(1)(d))",
    "transfers": "Transfers to third countries or international organisations (Art. 30(1)(e))",
    "retention": "Time limits for erasure (Art. 30(1)(f))",
    "security": "Technical and organisational security measures (Art. 30(1)(g), Art. 32)",
}


def controller(settings: Settings) -> dict[str, str]:
    return {
        "name": settings.privacy_controller_name,
        "contact": settings.privacy_controller_contact,
        "dpo": settings.privacy_dpo_contact,
    }


def _purposes(models: Mapping[str, type[BaseModel]]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for declaration_type, model in models.items():
        for f in model_fields(model):
            entry = found.setdefault(
                f.purpose or UNKNOWN,
                {"purpose": f.purpose or UNKNOWN, "description": PURPOSES.get(f.purpose or "", UNKNOWN),
                 "legal_bases": set(), "fields": []},
            )  # fmt: skip
            entry["legal_bases"].add(f.legal_basis or UNKNOWN)
            entry["fields"].append(f"{declaration_type}{f.pointer}")
    out = []
    for key in sorted(found):
        entry = found[key]
        bases = sorted(entry["legal_bases"])
        entry["legal_bases"] = [{"basis": b, "description": LEGAL_BASES.get(b, UNKNOWN)} for b in bases]
        out.append(entry)
    return out


def _data_subjects(models: Mapping[str, type[BaseModel]]) -> list[dict[str, str]]:
    out = []
    for declaration_type, model in models.items():
        roles = sorted({f.pointer.split("/")[1] for f in model_fields(model) if f.pointer.endswith("/name")})
        for role in roles:
            natural = role in PERSON_PARTIES.get(declaration_type, frozenset())
            kind = "natural persons" if natural else "economic operators and their contact persons"
            out.append({"who": f"{declaration_type} {role}", "kind": kind})
    return out


def _personal_data(models: Mapping[str, type[BaseModel]]) -> list[dict[str, Any]]:
    by_category: dict[str, list[str]] = {}
    for declaration_type, model in models.items():
        for f in model_fields(model):
            category = f.category or UNKNOWN
            if category in (DataCategory.CODE.value, DataCategory.TRADE.value):
                continue  # goods data: no personal data
            by_category.setdefault(category, []).append(f"{declaration_type}{f.pointer}")
    return [{"category": c, "fields": fields} for c, fields in sorted(by_category.items())]


def _recipients() -> list[dict[str, Any]]:
    out = []
    for role in Role:
        seen = [c.value for c in DataCategory if any(r["role"] == role.value for r in recipients(c))]
        if seen:
            out.append({"role": role.value, "categories": seen})
    return out


def _retention(retention: RetentionView | None) -> list[dict[str, Any]] | str:
    if retention is None:
        return f"{UNKNOWN}: no retention policy configured"
    return [
        {k: policy.get(k) for k in ("id", "jurisdiction", "record", "categories", "start", "period", "legal_basis",
                                     "extended_by")}
        for policy in retention.policy_list()
    ]  # fmt: skip


def _security(settings: Settings) -> list[str]:
    provider = (
        f"PKCS#11 hardware security module (token {settings.crypto_pkcs11_token!r})"
        if settings.crypto_provider == "pkcs11"
        else "local key file under the var directory (mode 0600)"
    )
    database = make_url(settings.database_url).get_backend_name()
    measures = [
        f"Encryption at rest: AES-{KEY_BYTES * 8}-GCM envelope encryption of every confidential, personal and "
        "biometric field, one data key per party, wrapped by key-encryption keys held by the key provider: "
        f"{provider}",
        "Erasure by crypto-shredding: destroying a party's data key makes its data unreadable everywhere, "
        "backups included",
        "Pseudonymous lookups: HMAC-SHA-256 blind indexes of EORIs and names; party references hold no identifier",
        f"Integrity: RFC 9162 Merkle log of salted commitments, Ed25519-signed C2SP checkpoints (origin "
        f"{settings.ledger_origin}), witnessed",
        "Transport: TLS 1.2 minimum"
        + (", client certificates required (mTLS)" if settings.tls_require_client_cert else ""),
        f"Authentication: Argon2id passwords (time cost {settings.auth_argon2_time_cost}, "
        f"{settings.auth_argon2_memory_kib} KiB), TOTP or WebAuthn second factor, step-up within "
        f"{settings.auth_step_up_seconds} s for decisions, exports and key operations; access tokens "
        f"valid {settings.auth_access_token_seconds} s",
        "Access control: roles with attributes (party, mandate, office), deny by default, redaction by data "
        "category, audited break-glass",
        "Accountability: every access to protected data is an audit event entered in the ledger",
        f"Database: {database}",
    ]
    return measures


def build(
    settings: Settings, retention: RetentionView | None, *, models: Mapping[str, type[BaseModel]] = MODELS
) -> dict[str, Any]:
    return {
        "controller": controller(settings),
        "purposes": _purposes(models),
        "data_subjects": _data_subjects(models),
        "personal_data": _personal_data(models),
        "other_records": stored_records(retention),
        "recipients": {"roles": _recipients(), "partners": list(PARTNER_RECIPIENTS)},
        "transfers": {
            "partners": list(PARTNER_RECIPIENTS),
            "note": "none: no exchange with partner administrations exists",
        },
        "retention": _retention(retention),
        "security": _security(settings),
    }


def markdown(record: dict[str, Any]) -> str:
    """The record as Markdown, one section per Art. 30(1) heading."""
    lines = ["# Records of processing activities (GDPR Art. 30(1))", ""]

    def section(key: str) -> None:
        lines.extend(["", f"## {HEADINGS[key]}", ""])

    section("controller")
    c = record["controller"]
    lines += [f"- Controller: {c['name']} ({c['contact']})", f"- Data protection officer: {c['dpo']}"]
    section("purposes")
    for p in record["purposes"]:
        bases = "; ".join(b["description"] for b in p["legal_bases"])
        lines.append(f"- **{p['purpose']}**: {p['description']}. Legal basis: {bases}. Fields: {len(p['fields'])}")
    for r in record["other_records"]:
        lines.append(f"- **{r['record']}**: {r['purpose']}. Legal basis: {r['legal_basis']}")
    section("data_subjects")
    lines += [f"- {s['who']}: {s['kind']}" for s in record["data_subjects"]]
    lines += [f"- {r['record']}: {r['subjects']}" for r in record["other_records"]]
    section("personal_data")
    for p in record["personal_data"]:
        lines.append(f"- {p['category']}: {', '.join(p['fields'])}")
    for r in record["other_records"]:
        lines.append(f"- {r['record']} ({', '.join(r['tables']) or 'no table yet'}): {r['data']}")
    section("recipients")
    lines += [f"- {r['role']}: {', '.join(r['categories'])}" for r in record["recipients"]["roles"]]
    lines.append(f"- partner administrations: {', '.join(record['recipients']['partners']) or 'none'}")
    section("transfers")
    lines.append(f"- {record['transfers']['note']}")
    section("retention")
    if isinstance(record["retention"], str):
        lines.append(f"- {record['retention']}")
    else:
        for p in record["retention"]:
            cats = ", ".join(p.get("categories") or []) or "all categories"
            lines.append(
                f"- {p['jurisdiction']} {p['record']} ({cats}): {p['period']} from {p['start']} "
                f"(policy {p['id']}; {p['legal_basis']})"
            )
    section("security")
    lines += [f"- {m}" for m in record["security"]]
    return "\n".join(lines) + "\n"
