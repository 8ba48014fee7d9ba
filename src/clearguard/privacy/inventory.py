"""The field inventory: every stored declaration field with its category, purpose, legal basis,
recipients and retention, plus the other stored personal data at table level.

Generated, never hand-kept: categories, purposes and legal bases come from the declaration model's
JSON schema tags (`x-category`, `x-purpose`, `x-legal-basis`, inherited downward), recipients from the
access policy (which roles hold which permission and which categories each role's view reveals), and
retention from the retention policies (RetentionView) when one is wired. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel

from clearguard.access.policy import view_for
from clearguard.access.roles import Perm, Role, holds
from clearguard.categories import DataCategory
from clearguard.declaration_model import LEGAL_BASES, PURPOSES, H1Declaration, H7Declaration
from clearguard.privacy.ports import RetentionView

TAGS: Final = ("x-category", "x-purpose", "x-legal-basis")
MODELS: Final[dict[str, type[BaseModel]]] = {"H1": H1Declaration, "H7": H7Declaration}
UNKNOWN: Final = "unknown"
# Every element of an array: JSON Pointer has no wildcard, the inventory writes `*` for "each index".
EACH: Final = "*"


@dataclass(frozen=True, slots=True)
class FieldTags:
    """One stored leaf of a declaration type, with the tags it has (its own or inherited)."""

    pointer: str
    category: str | None
    purpose: str | None
    legal_basis: str | None

    def missing(self) -> list[str]:
        """What this field lacks, or names that are not in the model's vocabulary."""
        out = []
        if self.category is None:
            out.append("category")
        elif self.category not in {c.value for c in DataCategory}:
            out.append(f"category {self.category!r} unknown")
        if self.purpose is None:
            out.append("purpose")
        elif self.purpose not in PURPOSES:
            out.append(f"purpose {self.purpose!r} unknown")
        if self.legal_basis is None:
            out.append("legal basis")
        elif self.legal_basis not in LEGAL_BASES:
            out.append(f"legal basis {self.legal_basis!r} unknown")
        return out


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref and Optional's anyOf, keeping the tags given at the referring place."""
    while True:
        carried = {k: node[k] for k in TAGS if k in node}
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = {**root["$defs"][name], **carried}
            continue
        options = node.get("anyOf")
        if options:
            non_null = [o for o in options if o.get("type") != "null"]
            if len(non_null) == 1:
                node = {**non_null[0], **carried}
                continue
        return node


def _walk(node: dict[str, Any], root: dict[str, Any], at: str, inherited: dict[str, Any]) -> Iterator[FieldTags]:
    node = _resolve(node, root)
    tags = {**inherited, **{k: node[k] for k in TAGS if k in node}}
    if "properties" in node:
        for key, child in node["properties"].items():
            yield from _walk(child, root, f"{at}/{_escape(key)}", tags)
        return
    if node.get("type") == "array":
        yield from _walk(node.get("items", {}), root, f"{at}/{EACH}", tags)
        return
    yield FieldTags(at, tags.get("x-category"), tags.get("x-purpose"), tags.get("x-legal-basis"))


def model_fields(model: type[BaseModel]) -> list[FieldTags]:
    """Every leaf of a model's document, in schema order, with its tags (none at the root)."""
    root = model.model_json_schema()
    return list(_walk(root, root, "", {}))


def untagged(model: type[BaseModel]) -> list[str]:
    """`pointer: what is missing` for every field lacking a category, a purpose or a legal basis."""
    return [f"{f.pointer}: no {', no '.join(f.missing())}" for f in model_fields(model) if f.missing()]


# ------------------------------------------------------------------ recipients (from the access policy)

# Which declarations a reading role reaches (clearguard.access.policy.visibility, list_scope).
_SCOPE: Final[Mapping[Role, str]] = {
    Role.TRADER: "its own declarations",
    Role.BROKER: "declarations of traders that gave it a current mandate",
    Role.OFFICER: "declarations of its office (another office's only by an audited break-glass read)",
    Role.RISK_ANALYST: "declarations of every office",
    Role.AUDITOR: "declarations of every office",
}


def recipients(category: DataCategory) -> list[dict[str, str]]:
    """The roles that may see values of `category`: the readers whose view reveals it, and the
    roles that answer subject access requests (which disclose everything held on the subject)."""
    out = []
    for role in Role:
        if holds(role, Perm.DECLARATIONS_READ) and category in view_for(role).categories:
            out.append({"role": role.value, "scope": _SCOPE.get(role, "as its permissions allow")})
        elif holds(role, Perm.PRIVACY_MANAGE):
            out.append({"role": role.value, "scope": "subject access reports and data subject requests"})
    return out


# Partner administrations receive nothing until the exchange capability (sharing) exists.
PARTNER_RECIPIENTS: Final[list[dict[str, str]]] = []


# ------------------------------------------------------------------ retention (from RetentionView)


def retention_for(retention: RetentionView | None, record: str, category: str | None) -> dict[str, Any] | str:
    """jurisdiction -> {"policy", "start", "period", "legal_basis"} of the policies for this record kind
    (and category, where the policy names categories); "unknown" without retention policies."""
    if retention is None:
        return UNKNOWN
    found: dict[str, Any] = {}
    for policy in retention.policy_list():
        if policy.get("record") != record:
            continue
        categories = policy.get("categories") or []
        if category is not None and categories and category not in categories:
            continue
        found[str(policy["jurisdiction"])] = {
            "policy": policy["id"],
            "start": policy.get("start"),
            "period": policy.get("period"),
            "legal_basis": policy.get("legal_basis"),
        }
    return found or UNKNOWN


# ------------------------------------------------------------------ the inventory


def declaration_fields(retention: RetentionView | None = None) -> list[dict[str, Any]]:
    """One entry per stored field of each declaration type."""
    out = []
    for declaration_type, model in MODELS.items():
        for f in model_fields(model):
            category = DataCategory(f.category) if f.category else DataCategory.TRADE
            out.append(
                {
                    "type": declaration_type,
                    "pointer": f.pointer,
                    "category": f.category,
                    "protected": category.protected,
                    "purpose": f.purpose,
                    "purpose_text": PURPOSES.get(f.purpose or "", UNKNOWN),
                    "legal_basis": f.legal_basis,
                    "legal_basis_text": LEGAL_BASES.get(f.legal_basis or "", UNKNOWN),
                    "recipients": recipients(category),
                    "partners": list(PARTNER_RECIPIENTS),
                    "retention": retention_for(retention, "declaration", f.category),
                }
            )
    return out


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """Personal data stored outside the declaration documents, at table level."""

    record: str  # the retention record kind, where the policies know one
    tables: tuple[str, ...]
    categories: tuple[str, ...]
    data: str
    purpose: str
    legal_basis: str
    subjects: str


GDPR_C = "GDPR Art. 6(1)(c) legal obligation"
GDPR_E = "GDPR Art. 6(1)(e) public task"
STORED_RECORDS: Final[tuple[StoredRecord, ...]] = (
    StoredRecord(
        "declaration",
        ("declarations", "declaration_versions", "declaration_parties", "declaration_events"),
        ("code", "trade", "confidential", "personal"),
        "declaration versions (protected fields sealed per party), parties' blind indexes, status transitions "
        "with the acting officer and reason",
        "customs clearance (see the field inventory for each field's purpose)",
        "see the field inventory",
        "traders, their contacts, natural persons named in declarations (consignees), officers",
    ),
    StoredRecord(
        "party_key",
        ("crypto_data_keys", "crypto_kek_versions", "crypto_shred_epoch"),
        (),
        "wrapped data keys per party, referenced by a blind index (no identifier in clear)",
        "encryption at rest and erasure by crypto-shredding",
        "GDPR Art. 32 security of processing",
        "traders and natural persons (through the blind index of their reference)",
    ),
    StoredRecord(
        "audit_event",
        ("audit_events",),
        ("personal",),
        "who did what to which record, when, from which network address, with which justification; parties "
        "as blind indexes",
        "accountability: every access to protected data is recorded and reviewable",
        f"{GDPR_C}: GDPR Art. 5(2), 24 and 32; UCC Art. 51 (keeping of records)",
        "staff and users of traders and brokers",
    ),
    StoredRecord(
        "risk_record",
        ("risk_assessments", "risk_outcomes", "risk_history", "risk_models"),
        ("trade", "confidential"),
        "risk scores, channels, explanations, scored records sealed under the declarant's key, control outcomes "
        "with the recording officer",
        "risk analysis and customs controls",
        f"{GDPR_E}: UCC Art. 46-47",
        "traders (by blind index), officers",
    ),
    StoredRecord(
        "ledger_commitment",
        (
            "ledger_entries", "ledger_checkpoints", "ledger_tiles", "ledger_tree", "ledger_sequence",
            "ledger_witness_peers", "ledger_witnessed_logs", "ledger_witness_alerts", "ledger_mirrors",
        ),
        (),
        "salted commitments under opaque record ids: no personal data",
        "proving that records were not altered",
        "GDPR Art. 32 integrity",
        "none (commitments hold no personal data)",
    ),
    StoredRecord(
        "account",
        (
            "identity_accounts", "identity_sessions", "identity_access_tokens", "identity_refresh_tokens",
            "identity_mfa_challenges", "identity_recovery_codes", "identity_webauthn_credentials",
            "identity_login_failures", "access_mandates",
        ),
        ("personal",),
        "usernames, roles, party EORI and office, Argon2id password hashes, sealed TOTP seeds, passkeys, "
        "sessions, throttling keys, brokers' mandates",
        "authentication and access control",
        f"{GDPR_E}; GDPR Art. 32 security of processing",
        "staff, users of traders and brokers",
    ),
    StoredRecord(
        "traveller",
        ("traveller_records",),
        ("personal", "biometric"),
        "traveller clearance records: document number, nationality, face template (travellers capability)",
        "clearance of travellers' goods at the border",
        f"{GDPR_E}: UCC Art. 46; GDPR Art. 9(2)(g) substantial public interest for the biometric template",
        "travellers",
    ),
    StoredRecord(
        "legal_hold",
        ("retention_holds", "retention_runs"),
        ("personal",),
        "legal holds (target as an MRN or a party's blind reference, reason, owner, case id, review date) and "
        "disposal runs with their certificates (MRNs, counts, policies, the acting operator)",
        "keeping records under appeal, court case or audit; proving disposal",
        f"{GDPR_C}: UCC Art. 44 and 51; GDPR Art. 5(1)(e) and 5(2)",
        "staff (owners and operators of holds and runs)",
    ),
    StoredRecord(
        "sharing_package",
        ("sharing_partners", "sharing_agreements", "sharing_packages", "sharing_nonces", "sharing_pseudonyms"),
        ("code", "trade", "confidential", "personal"),
        "partner administrations (public keys, certificates), agreements, declarations received from partners "
        "(sealed under a key per partner, kept until the agreement's retention date), digests of packages sent "
        "and refused, and the identities behind pseudonyms given to partners (sealed under each party's key)",
        "exchange with partner customs administrations under agreements (sharing capability)",
        f"{GDPR_E}: UCC Art. 47 and the agreements with partner administrations",
        "traders and natural persons named in shared declarations (pseudonymised where the agreement says so)",
    ),
    StoredRecord(
        "activity_event",
        ("detection_activity", "detection_alerts", "detection_suppressions"),
        ("personal",),
        "staff activity (account, role, office, action, outcome, source address, user agent, time), the "
        "records and parties it touched as keyed references only, names tried at login that are no account "
        "as keyed references; alerts and triage verdicts about staff accounts and source addresses",
        "detecting attacks and insider misuse of customs data (detection capability)",
        "GDPR Art. 6(1)(e) and Art. 32 (security of processing)",
        "staff and anyone who tries to sign in (source addresses)",
    ),
    StoredRecord(
        "training_record",
        ("training_courses", "training_completions"),
        ("personal",),
        "staff training: the course catalogue, and per staff account the courses completed with date, expiry, "
        "certificate reference and who recorded it",
        "proving that staff who handle customs data are trained in data protection (training capability)",
        "GDPR Art. 32(4), 39(1)(b) and 6(1)(c)",
        "staff in privileged roles",
    ),
    StoredRecord(
        "declaration_draft",
        ("declaration_drafts",),
        ("code", "trade", "confidential", "personal"),
        "declaration documents being prepared (not lodged), each sealed whole under the declarant's data key or "
        "the service's sealing key; owner account, title (the LRN or a number), dates, declarant's blind index",
        "letting traders and brokers prepare a declaration before lodging it; disposed of after 30 days untouched",
        f"{GDPR_E}: UCC Art. 6 and 158 (lodging declarations electronically)",
        "traders, their contacts, natural persons named in the draft, the preparing user",
    ),
    StoredRecord(
        "privacy_request",
        ("privacy_requests",),
        ("personal",),
        "data subject requests: kind, the subject's reference (a blind index), dates, outcome, legal reason",
        "answering data subjects' rights of access, rectification and erasure",
        f"{GDPR_C}: GDPR Art. 12-17",
        "data subjects who made a request",
    ),
)


def stored_records(retention: RetentionView | None = None) -> list[dict[str, Any]]:
    return [
        {
            "record": r.record,
            "tables": list(r.tables),
            "categories": list(r.categories),
            "data": r.data,
            "purpose": r.purpose,
            "legal_basis": r.legal_basis,
            "subjects": r.subjects,
            "retention": retention_for(retention, r.record, None),
        }
        for r in STORED_RECORDS
    ]


def inventory(retention: RetentionView | None = None) -> dict[str, Any]:
    return {"fields": declaration_fields(retention), "records": stored_records(retention)}
