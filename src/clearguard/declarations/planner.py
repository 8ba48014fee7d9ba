"""The rows a declaration's lifecycle writes, planned without I/O.

From a parsed and checked declaration (Prepared) and its context (MRN, version, actor, time, risk
outcome, party references, salt), the planner gives the rows to insert and the values to seal; the
service only looks up, seals, sequences and inserts them. Lodging, amending and deciding all plan
through here: a version is always planned by `plan_version`, a transition always by
`plan_transition`, so the three paths write the same shapes and commit to the same bytes
(record_format).

Pure: no database, no files, no clock, no randomness (the caller passes the time, the salts and the
MRN); blind indexes are keyed hashes computed by the indexer passed in.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from clearguard.audit import NewAuditEvent
from clearguard.compliance.findings import Finding, Severity
from clearguard.crypto.fields import FieldRef
from clearguard.declaration_model import PERSON_PARTIES, DeclarationModel
from clearguard.declarations import documents, parties
from clearguard.declarations.categorised import SealGroup
from clearguard.declarations.lifecycle import (
    CHANNEL_STATUS,
    DECISION_TARGET,
    Decision,
    Status,
    check_amendable,
    check_transition,
)
from clearguard.declarations.ports import BlindIndexer
from clearguard.declarations.record_format import (
    group_ref,
    risk_decision,
    transition_canonical,
    version_canonical,
    version_record_id,
    version_salt_ref,
)
from clearguard.declarations.results import Actor, LodgeResult
from clearguard.errors import ClearGuardError, ValidationFailed
from clearguard.risk.lodging import RiskOutcome

LRN_RULE = "CG-LRN-001"
OFFICE_RULE = "CG-AMEND-001"
# The party fields of each declaration type, in the order their rows are written.
PARTY_ROLES = {
    "H1": ("declarant", "importer", "exporter", "seller", "buyer"),
    "H7": ("declarant", "consignee", "consignor"),
}


@dataclass(frozen=True, slots=True)
class Prepared:
    """A declaration parsed and checked, ready to store: everything that needs no database."""

    model: DeclarationModel
    doc: dict[str, Any]
    findings: list[Finding]
    canonical: bytes  # canonical JSON of doc: content index and ledger commitment


# ---------------------------------------------------------------------- versions


@dataclass(frozen=True, slots=True)
class VersionDraft:
    """One version's rows before sealing. The service seals `to_seal` in order (the groups, then the
    salt, in one call) and completes the row with `sealed_version`."""

    row: dict[str, Any]  # without its protected groups and sealed salt, declaration id and ledger index
    groups: list[SealGroup]
    to_seal: list[tuple[str, FieldRef, str]]  # (part whose key seals it, where, plaintext)
    parties: list[dict[str, Any]]
    record: tuple[str, bytes, bytes] | None  # (record id, committed bytes, salt); None without a ledger


def party_refs(indexer: BlindIndexer, model: DeclarationModel) -> dict[str, str]:
    """Whose data key seals each top-level part: the declarant's, or a natural person's own."""
    refs = {"": parties.trader_ref(indexer, model.declarant.eori)}
    for part in PERSON_PARTIES[model.type]:
        person = getattr(model, part)
        refs[part] = parties.person_ref(indexer, person.name, person.address.postcode, person.address.country)
    return refs


def party_rows(
    indexer: BlindIndexer, version: int, model: DeclarationModel, refs: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    # One declaration often names one party in several roles (declarant and importer, exporter and
    # seller): each distinct name is indexed once. Kept for this declaration only, so no name
    # outlives the request in a process-wide memo.
    names: dict[str, str] = {}
    for role in PARTY_ROLES[model.type]:
        party = getattr(model, role)
        if party is None:
            continue
        eori = party.eori
        name = party.name
        name_index = names.get(name)
        if name_index is None:
            name_index = names[name] = indexer.blind_index("name", parties.normalise_name(name))
        rows.append(
            {
                "version": version,
                "role": role,
                "eori_index": indexer.blind_index("eori", parties.normalise_eori(eori)) if eori else None,
                "name_index": name_index,
                "party_ref": refs.get(role, refs[""]),
            }
        )
    return rows


def plan_version(
    indexer: BlindIndexer,
    mrn: str,
    version: int,
    prepared: Prepared,
    actor: Actor,
    now: datetime,
    *,
    reason: str | None,
    refs: dict[str, str],
    salt: bytes,
    committed: bool,
    lodge_events: Sequence[dict[str, Any]] = (),
    decision: dict[str, Any] | None = None,
) -> VersionDraft:
    """The rows of one declaration version. `committed`: the version gets a ledger entry (there is a
    ledger); `lodge_events`: the automatic transitions the first version's entry also commits to;
    `decision`: the risk decision taken on the version (record_format.risk_decision), committed too."""
    model = prepared.model
    clear, groups = documents.split_doc(model.type, prepared.doc)
    to_seal = [
        (group.part, group_ref(mrn, group.name, version), orjson.dumps(values).decode()) for group, values in groups
    ]
    to_seal.append(("", version_salt_ref(mrn, version), salt.hex()))
    record = None
    if committed:
        record = (version_record_id(mrn, version), version_canonical(prepared.canonical, lodge_events, decision), salt)
    row = {
        "version": version,
        "clear_doc": clear,
        "findings": [f.to_dict() for f in prepared.findings],
        "created_at": now,
        "created_by": actor.name,
        "reason": reason,
    }
    return VersionDraft(
        row, [group for group, _values in groups], to_seal, party_rows(indexer, version, model, refs), record
    )


def sealed_version(draft: VersionDraft, key_ids: dict[str, int], blobs: Sequence[bytes]) -> dict[str, Any]:
    """The version row with its sealed groups and salt (`blobs` in `to_seal` order)."""
    *group_blobs, sealed_salt = blobs
    protected = {
        group.name: [group.category.value, key_ids[group.part], base64.b64encode(blob).decode()]
        for group, blob in zip(draft.groups, group_blobs, strict=True)
    }
    return draft.row | {"protected": protected, "salt": sealed_salt, "salt_key_id": key_ids[""]}


# ---------------------------------------------------------------------- transitions


@dataclass(frozen=True, slots=True)
class TransitionDraft:
    """One transition's event row, what its own ledger entry commits to, and its salt."""

    row: dict[str, Any]  # without declaration id, ledger index and sealed salt
    canonical: bytes
    salt: bytes


def event_row(
    version: int, current: Status | None, target: Status, actor: Actor, now: datetime, reason: str | None
) -> dict[str, Any]:
    return {
        "version": version,
        "from_status": current.value if current else None,
        "to_status": target.value,
        "actor": actor.name,
        "role": actor.role,
        "reason": reason,
        "at": now,
    }


def plan_transition(
    mrn: str,
    version: int,
    current: Status | None,
    target: Status,
    actor: Actor,
    now: datetime,
    reason: str | None,
    *,
    salt: bytes,
) -> TransitionDraft:
    """A transition with an entry of its own (a decision, an amendment's re-routing); refused by the
    lifecycle's rules before anything is planned."""
    if current is not None:
        check_transition(current, target, mrn=mrn)
    row = event_row(version, current, target, actor, now, reason)
    return TransitionDraft(row, transition_canonical(mrn, row), salt)


def plan_decision(
    mrn: str,
    version: int,
    current: Status,
    decision: Decision,
    actor: Actor,
    now: datetime,
    reason: str,
    *,
    salt: bytes,
) -> TransitionDraft:
    """An officer's release, hold or reject: the transition to the decision's status."""
    return plan_transition(mrn, version, current, DECISION_TARGET[decision], actor, now, reason, salt=salt)


# ---------------------------------------------------------------------- lodging


@dataclass(frozen=True, slots=True)
class NewDeclaration:
    """The rows of one new declaration, planned before the batch inserts them."""

    row: dict[str, Any]
    version: VersionDraft
    events: list[dict[str, Any]]  # the automatic transitions, committed with the version's entry
    result: LodgeResult  # without its ledger index, which the batch's sequencing gives
    eori: str
    actor: Actor


def plan_lodging(
    indexer: BlindIndexer,
    prepared: Prepared,
    *,
    mrn: str,
    declarant_index: str,
    content_index: str,
    actor: Actor,
    now: datetime,
    outcome: RiskOutcome,
    pack_ref: str,
    refs: dict[str, str],
    salt: bytes,
    committed: bool,
) -> NewDeclaration:
    model = prepared.model
    status = CHANNEL_STATUS[outcome.channel]
    check_transition(Status.ACCEPTED, status, mrn=mrn)
    steps = [
        (None, Status.LODGED, "lodged"),
        (Status.LODGED, Status.ACCEPTED, f"validated against rule pack {pack_ref}"),
        (Status.ACCEPTED, status, f"channel {outcome.channel}"),
    ]
    events = [event_row(1, current, target, actor, now, reason) for current, target, reason in steps]
    # One ledger entry commits to the version and the automatic transitions that came with it;
    # every later transition (an officer's decision, an amendment) gets an entry of its own.
    version = plan_version(
        indexer, mrn, 1, prepared, actor, now, reason=None, refs=refs, salt=salt, committed=committed,
        lodge_events=events, decision=risk_decision(outcome.reasons),
    )  # fmt: skip
    row = {
        "mrn": mrn,
        "lrn": model.lrn,
        "declarant_index": declarant_index,
        "type": model.type,
        "office": model.office_of_presentation,
        "status": status.value,
        "channel": outcome.channel,
        "current_version": 1,
        "content_index": content_index,
        "pack_ref": pack_ref,
        "created_at": now,
        "updated_at": now,
        "created_by": actor.name,
    }
    result = LodgeResult(mrn, status.value, outcome.channel, 1, prepared.findings, True, None, dict(outcome.reasons))
    return NewDeclaration(row, version, events, result, parties.normalise_eori(model.declarant.eori), actor)


@dataclass(frozen=True, slots=True)
class Fresh:
    """A declaration of the batch that is new: it gets an MRN and rows."""

    item: Prepared
    declarant_index: str
    content_index: str
    actor: Actor
    mrn: str


@dataclass(slots=True)
class BatchPlan:
    """What a lodging batch does with each line: an error or an earlier result now (results), or a
    new declaration (fresh, at `positions`), or a repeat of a new one in the same batch (repeats:
    (position, index into fresh, item))."""

    lines: list[int]
    results: list[LodgeResult | ClearGuardError | None]
    fresh: list[Fresh]
    positions: list[int]
    repeats: list[tuple[int, int, Prepared]]


def sort_batch(
    keyed: Sequence[tuple[int, Prepared | ClearGuardError, tuple[str, str], str]],
    known: dict[tuple[str, str], tuple[str, str, str | None, int, str]],
    actor_of_line: dict[int, Actor],
    mrn_for: Callable[[Prepared], str],
) -> BatchPlan:
    """Each line of a batch against the declarations already stored (`known`: (declarant index, LRN)
    -> (MRN, status, channel, version, content index)) and the batch's own earlier lines: the same
    LRN with the same content is a repeat (answered, not stored again), with other content a
    conflict (CG-LRN-001). `mrn_for(item)` gives a new declaration its MRN."""
    plan = BatchPlan([], [], [], [], [])
    fresh_of_key: dict[tuple[str, str], int] = {}
    for line, item, key, content_index in keyed:
        plan.lines.append(line)
        if isinstance(item, ClearGuardError):
            plan.results.append(item)
            continue
        stored: tuple[str, str | None, str] | None = None  # (MRN, None when new here, content index)
        if key in known:
            mrn, status, channel, version, stored_index = known[key]
            stored = (mrn, status, stored_index)
        elif key in fresh_of_key:
            first = plan.fresh[fresh_of_key[key]]
            stored = (first.mrn, None, first.content_index)
        if stored is None:
            fresh_of_key[key] = len(plan.fresh)
            plan.fresh.append(Fresh(item, key[0], content_index, actor_of_line[line], mrn_for(item)))
            plan.positions.append(len(plan.results))
            plan.results.append(None)
        elif stored[2] != content_index:
            finding = Finding(
                LRN_RULE,
                Severity.ERROR,
                "/lrn",
                f"lrn: {item.model.lrn} is already used by this declarant for another declaration "
                f"({stored[0]}); amend that one instead",
            )
            plan.results.append(
                ValidationFailed(finding.message, field="/lrn", extra={"findings": [finding.to_dict()]})
            )
        elif stored[1] is None:
            plan.repeats.append((len(plan.results), fresh_of_key[key], item))
            plan.results.append(None)
        else:
            plan.results.append(LodgeResult(mrn, status, channel, version, item.findings, created=False))
    return plan


def repeat_result(created: LodgeResult, repeated: Prepared) -> LodgeResult:
    """The answer to a line that repeats a declaration lodged earlier in the same batch."""
    return LodgeResult(created.mrn, created.status, created.channel, 1, repeated.findings, created=False)


def with_ledger_index(lodged: LodgeResult, ledger_index: int | None) -> LodgeResult:
    return dataclasses.replace(lodged, ledger_index=ledger_index)


# ---------------------------------------------------------------------- amendments


@dataclass(frozen=True, slots=True)
class Stored:
    """What an amendment or a decision reads of the stored declaration."""

    lrn: str
    type: str
    declarant_index: str
    office: str
    status: Status
    channel: str | None
    version: int


@dataclass(frozen=True, slots=True)
class Amendment:
    """An amendment's effect on the declaration: its new version, the status and channel it ends in,
    and the re-routing transition when re-assessment raises the control level."""

    version: int
    target: Status
    channel: str | None
    routing: tuple[Status, Status, str] | None  # (from, to, reason): a transition with its own entry


def check_amendment(stored: Stored, prepared: Prepared, declarant_index: str, *, mrn: str) -> None:
    """An amendment keeps the declaration's type, LRN, declarant and office, and comes while the
    declaration is still amendable; otherwise it is refused before anything is written."""
    check_amendable(stored.status, mrn=mrn)
    model = prepared.model
    if model.lrn != stored.lrn or model.type != stored.type or declarant_index != stored.declarant_index:
        raise ValidationFailed("lrn: an amendment keeps the declaration's type, LRN and declarant", field="/lrn")
    if model.office_of_presentation != stored.office:
        raise office_changed(stored.office, model.office_of_presentation)


def office_changed(office: str, wanted: str) -> ValidationFailed:
    """An amendment may not move a declaration to another office: the office routes it and its
    officers hold it (access follows the office), so the change is refused, never half-applied."""
    finding = Finding(
        OFFICE_RULE,
        Severity.ERROR,
        "/office_of_presentation",
        f"office_of_presentation: an amendment keeps the office of presentation ({office}), whose officers "
        f"hold the declaration; to present the goods at {wanted}, invalidate this declaration and lodge a new one",
    )
    return ValidationFailed(finding.message, field=finding.pointer, extra={"findings": [finding.to_dict()]})


def plan_amendment(stored: Stored, outcome: RiskOutcome, reason: str) -> Amendment:
    """Re-assessment may raise the control level, never lower one an officer is already working."""
    target = CHANNEL_STATUS[outcome.channel]
    channel: str | None = outcome.channel
    routing = None
    if stored.status is not Status.ACCEPTED:
        target = stored.status
        channel = stored.channel or outcome.channel
    elif target is not stored.status:
        routing = (stored.status, target, f"amended: {reason}; channel {outcome.channel}")
    return Amendment(stored.version + 1, target, channel, routing)


# ---------------------------------------------------------------------- audit


def audit_events(
    indexer: BlindIndexer, action: str, items: Sequence[tuple[Actor, str | None, str | None, dict[str, Any] | None]]
) -> list[NewAuditEvent]:
    """One audit event per (actor, MRN, declarant EORI, details); the party as its blind index."""
    return [
        NewAuditEvent(actor=actor.name, role=actor.role, action=action, record_type="declaration", record_id=mrn,
                      party=indexer.blind_index("eori", party) if party else None, source=actor.source,
                      justification=actor.justification, details=details)
        for actor, mrn, party, details in items
    ]  # fmt: skip
