"""DeclarationService: the one way declarations are written and read.

Lodging runs: parse (strict) -> compliance rules -> MRN -> seal protected fields, blind indexes ->
ONE transaction: declaration, version, parties, transitions, ledger entry, audit event, risk channel.
Bad input raises before anything is written; any failure inside the transaction rolls all of it back.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clearguard.categories import DataCategory
from clearguard.compliance.findings import Finding, Severity, has_errors
from clearguard.db import DriverStatement, bulk_insert, utcnow
from clearguard.declarations import documents, parties
from clearguard.declarations.categorised import leaves as documents_leaves
from clearguard.declarations.categorised import pointer
from clearguard.declarations.cursors import open_cursor, seal_cursor
from clearguard.declarations.lifecycle import (
    CHANNEL_STATUS,
    DECISION_TARGET,
    Decision,
    Status,
    check_amendable,
    check_transition,
)
from clearguard.declarations.model import PERSON_PARTIES, DeclarationModel
from clearguard.declarations.mrn import PROCEDURE_LETTERS, make_mrn, validate_mrn
from clearguard.declarations.parse import to_model
from clearguard.declarations.ports import (
    ERASED_TEXT,
    Erased,
    FieldRef,
    FieldVault,
    LedgerSink,
    RiskAssessor,
    RiskOutcome,
)
from clearguard.declarations.results import (
    Actor,
    DeclarationView,
    ListFilter,
    LodgeResult,
    Page,
    Summary,
)
from clearguard.declarations.tables import (
    DeclarationEventRow,
    DeclarationPartyRow,
    DeclarationRow,
    DeclarationVersionRow,
)
from clearguard.errors import ClearGuardError, InputError, NotFound, ValidationFailed
from clearguard.ledger.commitment import commit_entries, commit_entry

LRN_RULE = "CG-LRN-001"
NUL_RULE = "CG-SCHEMA-002"
VERSION_KIND = "declaration.version"
TRANSITION_KIND = "declaration.transition"
# Core tables: the bulk paths insert through them, skipping the ORM's per-row bookkeeping.
DECLARATIONS: Table = DeclarationRow.__table__  # type: ignore[assignment]
VERSIONS: Table = DeclarationVersionRow.__table__  # type: ignore[assignment]
PARTIES: Table = DeclarationPartyRow.__table__  # type: ignore[assignment]
EVENTS: Table = DeclarationEventRow.__table__  # type: ignore[assignment]
_PACK_REF_KEY = "clearguard.declarations.pack_ref"
VERSION_TABLE = "declaration_versions"
# The party fields of each declaration type, in the order their rows are written.
PARTY_ROLES = {
    "H1": ("declarant", "importer", "exporter", "seller", "buyer"),
    "H7": ("declarant", "consignee", "consignor"),
}
EVENTS_TABLE = "declaration_events"
# Every lodging transaction runs these two: on the driver (see DriverStatement).
_BY_LRN = DriverStatement(
    select(
        DECLARATIONS.c.declarant_index,
        DECLARATIONS.c.lrn,
        DECLARATIONS.c.mrn,
        DECLARATIONS.c.status,
        DECLARATIONS.c.channel,
        DECLARATIONS.c.current_version,
        DECLARATIONS.c.content_index,
    ).where(DECLARATIONS.c.lrn.in_(bindparam("lrns", expanding=True)))
)
_IDS_BY_MRN = DriverStatement(
    select(DECLARATIONS.c.mrn, DECLARATIONS.c.id).where(DECLARATIONS.c.mrn.in_(bindparam("mrns", expanding=True)))
)


class Validator(Protocol):
    @property
    def pack_ref(self) -> str: ...

    def validate(
        self, declaration: DeclarationModel, *, lrn_in_use: Callable[[str, str], bool] | None = None
    ) -> list[Finding]: ...


class AuditRecorder(Protocol):
    def record_many(self, session: Session, events: Sequence[dict[str, Any]]) -> Any:
        """Audit events (keyword sets: actor, role, action, record_type, record_id, party, source,
        justification, details) committed in the caller's transaction."""
        ...


# (kind, record id, canonical bytes, salt) -> ledger entry bytes that commit to the record.
EntryEncoder = Callable[[str, str, bytes, bytes], bytes]


def version_canonical(
    document: bytes, lodge_events: Sequence[dict[str, Any]], decision: dict[str, Any] | None = None
) -> bytes:
    """What a version's ledger entry commits to: the canonical document, for the first version the
    automatic transitions that came with it, and the risk decision taken on it (commitments.py,
    `risk_decision`; entries written before decisions were committed have none)."""
    out = document
    if lodge_events:
        out += b"\n" + documents.canonical_json([e | {"at": e["at"].isoformat()} for e in lodge_events])
    if decision is not None:
        out += b"\n" + documents.canonical_json({"risk": decision})
    return out


# What of a recorded risk assessment a version commits to: the decision and what it rests on, not
# the officer's later confirmation (added beside it) nor the explanation (free-form).
DECISION_FIELDS = ("channel", "basis", "random", "score", "model", "assessed_at")


def risk_decision(assessment: dict[str, Any]) -> dict[str, Any] | None:
    """The committed part of a risk assessment in its JSON form (the risk engine's `to_json`, which
    lodging receives as the outcome's reasons); None when no assessment was recorded (no engine)."""
    if "assessed_at" not in assessment or "basis" not in assessment:
        return None
    decision = {key: assessment.get(key) for key in DECISION_FIELDS}
    # One spelling of the instant, whatever offset the clock or the database gave it.
    decision["assessed_at"] = datetime.fromisoformat(str(decision["assessed_at"])).astimezone(UTC).isoformat()
    return decision


def transition_canonical(mrn: str, event: dict[str, Any]) -> bytes:
    return documents.canonical_json({"mrn": mrn} | event | {"at": event["at"].isoformat()})


def transition_salt_ref(mrn: str, version: int, ledger_index: int) -> FieldRef:
    return FieldRef(EVENTS_TABLE, mrn, f"salt@{ledger_index}", version)


class ComplianceChannel:
    """Channel without a risk engine: review findings send a declaration to documentary control."""

    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Any], fresh: bool = False
    ) -> RiskOutcome:
        review = [f for f in findings if isinstance(f, Finding) and f.severity is Severity.REVIEW]
        if review:
            return RiskOutcome("yellow", None, {"rule_hits": [f.rule_id for f in review]})
        return RiskOutcome("green", None, {})


@dataclass(frozen=True, slots=True)
class _NewDeclaration:
    """The rows of one new declaration, planned before the batch inserts them."""

    row: dict[str, Any]
    version: dict[str, Any]
    parties: list[dict[str, Any]]
    events: list[dict[str, Any]]
    entries: list[tuple[str, bytes, bytes]]  # (record id, committed bytes, salt) of the version's ledger entry
    result: LodgeResult
    eori: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class Prepared:
    """A declaration parsed and checked, ready to store: everything that needs no database."""

    model: DeclarationModel
    doc: dict[str, Any]
    findings: list[Finding]
    canonical: bytes  # canonical JSON of doc: content index and ledger commitment


def nul_findings(doc: dict[str, Any]) -> list[Finding]:
    """NUL characters in text: no legitimate value has one, and PostgreSQL cannot store them."""
    return [
        Finding(
            NUL_RULE, Severity.ERROR, pointer(*path), f"{'.'.join(map(str, path))}: must not contain NUL characters"
        )
        for path, value in documents_leaves(doc)
        if isinstance(value, str) and "\x00" in value
    ]


def vars_of(filters: ListFilter) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in filters.__dataclass_fields__}


normalise_name = parties.normalise_name
normalise_eori = parties.normalise_eori


class DeclarationService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        compliance: Validator,
        vault: FieldVault,
        ledger: LedgerSink | None = None,
        audit: AuditRecorder | None = None,
        risk: RiskAssessor | None = None,
        entry_encoder: EntryEncoder = commit_entry,
        receipts: Callable[[int], dict[str, Any]] | None = None,
        read_factory: sessionmaker[Session] | None = None,
    ) -> None:
        self._sf = session_factory
        self._read = read_factory or session_factory
        self._compliance = compliance
        self._vault = vault
        self._ledger = ledger
        self._audit = audit
        self._risk: RiskAssessor = risk or ComplianceChannel()
        self._entry = entry_encoder
        self._receipts = receipts

    # ------------------------------------------------------------------ validation

    def prepare(self, doc: dict[str, Any]) -> Prepared:
        """Schema and rules (all findings at once); raises ValidationFailed on any error."""
        parsed = to_model(doc)
        if isinstance(parsed, list):
            raise ValidationFailed(
                f"{parsed[0].message} ({len(parsed)} finding(s))",
                field=parsed[0].pointer,
                extra={"findings": [f.to_dict() for f in parsed]},
            )
        findings = self._compliance.validate(parsed)
        normalised = parsed.model_dump(mode="json", exclude_none=True)
        canonical = documents.canonical_json(normalised)
        if b"\\u0000" in canonical:  # cheap on the canonical bytes; walk only when it is there
            findings = [*nul_findings(normalised), *findings]
        if has_errors(findings):
            first = next(f for f in findings if f.severity is Severity.ERROR)
            raise ValidationFailed(
                f"{first.message} ({len(findings)} finding(s))",
                field=first.pointer,
                extra={"findings": [f.to_dict() for f in findings]},
            )
        return Prepared(parsed, normalised, findings, canonical)

    def validate(self, doc: dict[str, Any]) -> list[Finding]:
        """Every finding for a document, the stored LRNs included; writes nothing."""
        parsed = to_model(doc)
        if isinstance(parsed, list):
            return parsed
        with self._sf() as session:

            def lrn_in_use(eori: str, lrn: str) -> bool:
                return self._find_by_lrn(session, eori, lrn) is not None

            nul = nul_findings(parsed.model_dump(mode="json", exclude_none=True))
            return [*nul, *self._compliance.validate(parsed, lrn_in_use=lrn_in_use)]

    # ------------------------------------------------------------------ writes

    def lodge(self, doc: dict[str, Any], actor: Actor, *, receipt: bool = True) -> LodgeResult:
        """Lodge one declaration: the same path as bulk lodging, with a batch of one. With `receipt`,
        the ledger integrates at once and the result carries the signed receipt; without, the entry
        is signed with the next batch and `receipt_for` fetches the receipt later."""
        [(_line, outcome)] = self._lodge_batch([(1, doc)], actor)
        if isinstance(outcome, ClearGuardError):
            raise outcome
        if receipt and outcome.created and outcome.ledger_index is not None and self._receipts is not None:
            # After the commit: the receipt proves the committed version is in the signed log.
            return dataclasses.replace(outcome, receipt=self._receipts(outcome.ledger_index))
        return outcome

    def lodge_many(
        self, docs: Iterable[tuple[int, dict[str, Any] | ClearGuardError]], actor: Actor, *, batch_size: int = 500
    ) -> Iterator[tuple[int, LodgeResult | ClearGuardError]]:
        """Bulk lodging, one transaction per batch; a bad line changes nothing and never stops the
        others. Yields each line's outcome once its batch has committed."""
        batch: list[tuple[int, dict[str, Any] | ClearGuardError]] = []
        for item in docs:
            batch.append(item)
            if len(batch) >= batch_size:
                yield from self._lodge_batch(batch, actor)
                batch = []
        if batch:
            yield from self._lodge_batch(batch, actor)

    def lodge_group(self, items: Sequence[tuple[dict[str, Any], Actor]]) -> list[LodgeResult | ClearGuardError]:
        """Declarations of several callers in one transaction (group commit): each keeps its own
        actor and outcome. Used by the API so that concurrent requests share one commit."""
        batch: list[tuple[int, dict[str, Any] | ClearGuardError]] = [(n, doc) for n, (doc, _a) in enumerate(items)]
        actors = [actor for _doc, actor in items]
        return [outcome for _n, outcome in self._lodge_batch(batch, actors)]

    def _lodge_batch(
        self, batch: list[tuple[int, dict[str, Any] | ClearGuardError]], actor: Actor | Sequence[Actor]
    ) -> list[tuple[int, LodgeResult | ClearGuardError]]:
        actors = [actor] * len(batch) if isinstance(actor, Actor) else list(actor)
        prepared: list[tuple[int, Prepared | ClearGuardError]] = []
        for line, doc in batch:
            if isinstance(doc, ClearGuardError):
                prepared.append((line, doc))
                continue
            try:
                prepared.append((line, self.prepare(doc)))
            except ClearGuardError as exc:
                prepared.append((line, exc))
        for attempt in range(2):
            try:
                with self._sf() as session, session.begin():
                    return self._write_batch(session, prepared, actors)
            except IntegrityError:
                # Another writer lodged one of these LRNs between our lookup and our insert
                # (PostgreSQL); the second attempt sees its row and answers as for a repeat.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _write_batch(
        self, session: Session, items: list[tuple[int, Prepared | ClearGuardError]], actors: list[Actor]
    ) -> list[tuple[int, LodgeResult | ClearGuardError]]:
        """Everything a batch writes, as few statements as possible: one lookup of the LRNs, then
        one multi-row insert per table."""
        keyed: list[tuple[int, Prepared | ClearGuardError, tuple[str, str], str]] = []
        actor_of_line = {line: actor for (line, _item), actor in zip(items, actors, strict=True)}
        for line, item in items:
            if isinstance(item, ClearGuardError):
                keyed.append((line, item, ("", ""), ""))
                continue
            declarant_index = self._vault.blind_index("eori", normalise_eori(item.model.declarant.eori))
            content_index = self._vault.blind_index("document", item.canonical.decode())
            keyed.append((line, item, (declarant_index, item.model.lrn), content_index))
        wanted = {key for _l, item, key, _c in keyed if not isinstance(item, ClearGuardError)}
        known: dict[tuple[str, str], tuple[str, str, str | None, int, str]] = {}
        if wanted:
            for row in _BY_LRN.rows(session, lrns=sorted({lrn for _declarant, lrn in wanted})):
                if (row[0], row[1]) in wanted:  # the same LRN of another declarant is no conflict
                    known[(row[0], row[1])] = (row[2], row[3], row[4], row[5], row[6])
        now = utcnow()
        lines: list[int] = []
        results: list[LodgeResult | ClearGuardError | None] = []  # None: a new declaration, planned below
        fresh: list[tuple[Prepared, str, str, Actor, str]] = []  # (item, declarant index, content index, actor, MRN)
        positions: list[int] = []  # where each new declaration's outcome stands in `results`
        fresh_of_key: dict[tuple[str, str], int] = {}
        repeats: list[tuple[int, int, Prepared]] = []  # (position, new declaration, item): an LRN twice in a batch
        for line, item, key, content_index in keyed:
            lines.append(line)
            if isinstance(item, ClearGuardError):
                results.append(item)
                continue
            stored: tuple[str, str | None, str] | None = None  # (MRN, None when new here, content index)
            if key in known:
                mrn, status, channel, version, stored_index = known[key]
                stored = (mrn, status, stored_index)
            elif key in fresh_of_key:
                first = fresh[fresh_of_key[key]]
                stored = (first[4], None, first[2])
            if stored is None:
                mrn = make_mrn(item.model.office_of_presentation[:2], PROCEDURE_LETTERS[item.model.type], on=now.date())
                fresh_of_key[key] = len(fresh)
                fresh.append((item, key[0], content_index, actor_of_line[line], mrn))
                positions.append(len(results))
                results.append(None)
            elif stored[2] != content_index:
                finding = Finding(
                    LRN_RULE,
                    Severity.ERROR,
                    "/lrn",
                    f"lrn: {item.model.lrn} is already used by this declarant for another declaration "
                    f"({stored[0]}); amend that one instead",
                )
                results.append(ValidationFailed(finding.message, field="/lrn", extra={"findings": [finding.to_dict()]}))
            elif stored[1] is None:
                repeats.append((len(results), fresh_of_key[key], item))
                results.append(None)
            else:
                results.append(LodgeResult(mrn, status, channel, version, item.findings, created=False))
        if not fresh:
            return [(line, result) for line, result in zip(lines, results, strict=True) if result is not None]
        assessed = self._assess(session, [(mrn, item.doc, item.findings) for item, _d, _c, _a, mrn in fresh])
        refs = [self._party_refs(item.model) for item, _d, _c, _a, _m in fresh]
        self._resolve_keys(session, refs)
        new = [
            self._plan_new(session, item, declarant_index, content_index, actor, now, mrn, outcome, party_refs)
            for (item, declarant_index, content_index, actor, mrn), outcome, party_refs in zip(
                fresh, assessed, refs, strict=True
            )
        ]
        for position, first_new, repeated in repeats:
            created = new[first_new].result
            results[position] = LodgeResult(
                created.mrn, created.status, created.channel, 1, repeated.findings, created=False
            )
        entries = self._encode_versions([record for planned in new for record in planned.entries])
        indexes = self._append_entries(session, entries)
        bulk_insert(session, DECLARATIONS, [planned.row for planned in new])
        # The ids the rows just got, by MRN (unique): one indexed read instead of a RETURNING per row.
        id_of: dict[str, int] = dict(_IDS_BY_MRN.rows(session, mrns=[planned.row["mrn"] for planned in new]))
        versions: list[dict[str, Any]] = []
        party_rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        position = 0
        for planned, position_in_results in zip(new, positions, strict=True):
            declaration_id = id_of[planned.row["mrn"]]
            ledger_index = indexes[position] if planned.entries else None
            position += len(planned.entries)
            versions.append(planned.version | {"declaration_id": declaration_id, "ledger_index": ledger_index})
            lodged = planned.result  # built before the ledger sequenced the batch: the index goes in now
            results[position_in_results] = LodgeResult(
                lodged.mrn,
                lodged.status,
                lodged.channel,
                lodged.version,
                lodged.findings,
                lodged.created,
                ledger_index,
                lodged.risk,
            )
            party_rows.extend(p | {"declaration_id": declaration_id} for p in planned.parties)
            events.extend(e | {"declaration_id": declaration_id, "ledger_index": ledger_index} for e in planned.events)
        bulk_insert(session, VERSIONS, versions)
        bulk_insert(session, PARTIES, party_rows)
        bulk_insert(session, EVENTS, events)
        self._audit_many(session, "declaration.lodge", [(p.actor, p.row["mrn"], p.eori, {"version": 1}) for p in new])
        return [(line, result) for line, result in zip(lines, results, strict=True) if result is not None]

    def _assess(self, session: Session, items: list[tuple[str, dict[str, Any], list[Finding]]]) -> list[RiskOutcome]:
        """The channel of each new declaration: an assessor that scores a batch at once
        (assess_declarations) is called once per transaction, any other once per declaration."""
        many = getattr(self._risk, "assess_declarations", None)
        if many is not None:
            outcomes: list[RiskOutcome] = many(session, items, fresh=True)
            return outcomes
        return [
            self._risk.assess_declaration(session, mrn=mrn, payload=doc, findings=findings, fresh=True)
            for mrn, doc, findings in items
        ]

    def _resolve_keys(self, session: Session, refs: list[dict[str, str]]) -> None:
        """Every party key a batch seals under, looked up in one query where the vault can
        (keys_for_parties); sealing then finds each in the transaction's own map."""
        many = getattr(self._vault, "keys_for_parties", None)
        if many is not None:
            many(session, [ref for party_refs in refs for ref in party_refs.values()])

    def _encode_versions(self, records: list[tuple[str, bytes, bytes]]) -> list[bytes]:
        """Ledger entries of (record id, committed bytes, salt) version records."""
        if self._entry is commit_entry:
            return commit_entries(VERSION_KIND, records)
        return [self._entry(VERSION_KIND, record_id, committed, salt) for record_id, committed, salt in records]

    def _pack_ref(self, session: Session) -> str:
        """The rule pack in effect, looked up once per transaction (it reads the date)."""
        ref: str | None = session.info.get(_PACK_REF_KEY)
        if ref is None:
            ref = session.info[_PACK_REF_KEY] = self._compliance.pack_ref
        return ref

    def _append_entries(self, session: Session, entries: list[bytes]) -> list[int | None]:
        if self._ledger is None:
            return [None] * len(entries)
        if not entries:
            return []
        append_many = getattr(self._ledger, "append_many", None)
        if append_many is not None:
            # Entries of one call are sequenced together: the first index, the rest in order.
            first = int(append_many(session, entries))
            return list(range(first, first + len(entries)))
        return [self._ledger.append(session, entry) for entry in entries]

    def _plan_new(
        self,
        session: Session,
        prepared: Prepared,
        declarant_index: str,
        content_index: str,
        actor: Actor,
        now: datetime,
        mrn: str,
        outcome: RiskOutcome,
        refs: dict[str, str],
    ) -> _NewDeclaration:
        pack_ref = self._pack_ref(session)
        model = prepared.model
        status = CHANNEL_STATUS[outcome.channel]
        check_transition(Status.ACCEPTED, status, mrn=mrn)
        steps = [
            (None, Status.LODGED, "lodged"),
            (Status.LODGED, Status.ACCEPTED, f"validated against rule pack {pack_ref}"),
            (Status.ACCEPTED, status, f"channel {outcome.channel}"),
        ]
        events = [self._event_row(mrn, 1, current, target, actor, now, reason) for current, target, reason in steps]
        # One ledger entry commits to the version and the automatic transitions that came with it;
        # every later transition (an officer's decision, an amendment) gets an entry of its own.
        version, parties, record = self._version_rows(
            session, mrn, 1, prepared, actor, now, reason=None, with_events=events, refs=refs, outcome=outcome
        )
        entries = [record] if record is not None else []
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
        result = LodgeResult(
            mrn, status.value, outcome.channel, 1, prepared.findings, True, None, dict(outcome.reasons)
        )
        return _NewDeclaration(
            row, version, parties, events, entries, result, normalise_eori(model.declarant.eori), actor
        )

    def _party_refs(self, model: DeclarationModel) -> dict[str, str]:
        """Whose data key seals each top-level part: the declarant's, or a natural person's own."""
        refs = {"": parties.trader_ref(self._vault, model.declarant.eori)}
        for part in PERSON_PARTIES[model.type]:
            person = getattr(model, part)
            refs[part] = parties.person_ref(self._vault, person.name, person.address.postcode, person.address.country)
        return refs

    def _version_rows(
        self,
        session: Session,
        mrn: str,
        version: int,
        prepared: Prepared,
        actor: Actor,
        now: datetime,
        *,
        reason: str | None,
        with_events: list[dict[str, Any]] | None = None,
        refs: dict[str, str] | None = None,
        outcome: RiskOutcome | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]], tuple[str, bytes, bytes] | None]:
        """(version row, party rows, what its ledger entry commits to: (record id, committed bytes,
        salt), None without a ledger) of one declaration version; nothing executed yet."""
        model = prepared.model
        clear, groups = documents.split_doc(model.type, prepared.doc)
        refs = refs or self._party_refs(model)
        key_ids = {part: self._vault.key_for_party(session, ref) for part, ref in refs.items()}
        salt = secrets.token_bytes(32)
        # The groups, then the salt, in one call: the version's values are sealed together.
        items = [
            (key_ids[group.part], FieldRef(VERSION_TABLE, mrn, group.name, version), orjson.dumps(values).decode())
            for group, values in groups
        ]
        items.append((key_ids[""], FieldRef(VERSION_TABLE, mrn, "salt", version), salt.hex()))
        *blobs, sealed_salt = self._vault.seal_many(session, items)
        protected = {
            group.name: [group.category.value, key_ids[group.part], base64.b64encode(blob).decode()]
            for (group, _values), blob in zip(groups, blobs, strict=True)
        }
        record = None  # without a ledger there is nothing to commit to
        if self._ledger is not None:
            decision = risk_decision(outcome.reasons) if outcome is not None else None
            record = (f"{mrn}/{version}", version_canonical(prepared.canonical, with_events or [], decision), salt)
        row = {
            "version": version,
            "clear_doc": clear,
            "protected": protected,
            "findings": [f.to_dict() for f in prepared.findings],
            "salt": sealed_salt,
            "salt_key_id": key_ids[""],
            "created_at": now,
            "created_by": actor.name,
            "reason": reason,
        }
        return row, self._party_rows(version, model, refs), record

    def _party_rows(self, version: int, model: DeclarationModel, refs: dict[str, str]) -> list[dict[str, Any]]:
        rows = []
        # One declaration often names one party in several roles (declarant and importer, exporter and
        # seller): each distinct name is indexed once. Kept for this declaration only, so no name
        # outlives the request in a process-wide memo.
        names: dict[str, str] = {}
        for role in PARTY_ROLES[model.type]:
            party = getattr(model, role)
            if party is None:
                continue
            eori = getattr(party, "eori", None)
            name = party.name
            name_index = names.get(name)
            if name_index is None:
                name_index = names[name] = self._vault.blind_index("name", normalise_name(name))
            rows.append(
                {
                    "version": version,
                    "role": role,
                    "eori_index": self._vault.blind_index("eori", normalise_eori(eori)) if eori else None,
                    "name_index": name_index,
                    "party_ref": refs.get(role, refs[""]),
                }
            )
        return rows

    @staticmethod
    def _event_row(
        mrn: str,
        version: int,
        current: Status | None,
        target: Status,
        actor: Actor,
        now: datetime,
        reason: str | None,
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

    def _transition(
        self,
        session: Session,
        declaration_id: int,
        mrn: str,
        version: int,
        current: Status | None,
        target: Status,
        actor: Actor,
        now: datetime,
        reason: str | None,
    ) -> None:
        if current is not None:
            check_transition(current, target, mrn=mrn)
        row = self._event_row(mrn, version, current, target, actor, now, reason)
        salt = secrets.token_bytes(32)
        [ledger_index] = self._append_entries(
            session, [self._entry(TRANSITION_KIND, mrn, transition_canonical(mrn, row), salt)]
        )
        key_id = self._declarant_key(session, declaration_id)
        sealed = None
        if ledger_index is not None:
            sealed = self._vault.seal(session, key_id, transition_salt_ref(mrn, version, ledger_index), salt.hex())
        session.execute(
            EVENTS.insert(),
            row
            | {
                "declaration_id": declaration_id,
                "ledger_index": ledger_index,
                "salt": sealed,
                "salt_key_id": key_id if sealed is not None else None,
            },
        )

    def _declarant_key(self, session: Session, declaration_id: int) -> int:
        party_ref = session.execute(
            select(DeclarationPartyRow.party_ref)
            .where(DeclarationPartyRow.declaration_id == declaration_id, DeclarationPartyRow.role == "declarant")
            .order_by(DeclarationPartyRow.version.desc())
            .limit(1)
        ).scalar_one()
        return self._vault.key_for_party(session, party_ref)

    def _store_version(
        self,
        session: Session,
        declaration_id: int,
        mrn: str,
        version: int,
        prepared: Prepared,
        actor: Actor,
        now: datetime,
        *,
        reason: str | None,
        outcome: RiskOutcome | None = None,
    ) -> int | None:
        row, parties, record = self._version_rows(
            session, mrn, version, prepared, actor, now, reason=reason, outcome=outcome
        )
        [ledger_index] = self._append_entries(session, self._encode_versions([record])) if record else [None]
        session.execute(
            VERSIONS.insert(),
            row | {"declaration_id": declaration_id, "ledger_index": ledger_index},
        )
        session.execute(
            PARTIES.insert(),
            [p | {"declaration_id": declaration_id} for p in parties],
        )
        return ledger_index

    def _audit_many(
        self,
        session: Session,
        action: str,
        items: list[tuple[Actor, str | None, str | None, dict[str, Any] | None]],
    ) -> None:
        """One audit event per (actor, MRN, declarant EORI, details), recorded together."""
        if self._audit is None or not items:
            return
        events = [
            dict(actor=actor.name, role=actor.role, action=action, record_type="declaration", record_id=mrn,
                 party=self._vault.blind_index("eori", party) if party else None, source=actor.source,
                 justification=actor.justification, details=details)
            for actor, mrn, party, details in items
        ]  # fmt: skip
        self._audit.record_many(session, events)

    def _audit_event(
        self,
        session: Session,
        actor: Actor,
        action: str,
        mrn: str | None,
        party: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._audit_many(session, action, [(actor, mrn, party, details)])

    def amend(self, mrn: str, doc: dict[str, Any], actor: Actor, *, reason: str) -> LodgeResult:
        """A new version of an accepted declaration; re-validated and re-assessed, never overwriting."""
        mrn = validate_mrn(mrn)
        if not reason.strip():
            raise InputError("reason: an amendment needs a reason", field="reason")
        prepared = self.prepare(doc)
        with self._sf() as session, session.begin():
            row = self._row_for_update(session, mrn)
            check_amendable(Status(row.status), mrn=mrn)
            model = prepared.model
            if (
                model.lrn != row.lrn
                or model.type != row.type
                or (self._vault.blind_index("eori", normalise_eori(model.declarant.eori)) != row.declarant_index)
            ):
                raise ValidationFailed(
                    "lrn: an amendment keeps the declaration's type, LRN and declarant", field="/lrn"
                )
            version = row.current_version + 1
            now = utcnow()
            # Assessed first: the version's entry commits to the decision taken on it.
            outcome = self._risk.assess_declaration(session, mrn=mrn, payload=prepared.doc, findings=prepared.findings)
            ledger_index = self._store_version(
                session, row.id, mrn, version, prepared, actor, now, reason=reason, outcome=outcome
            )
            current = Status(row.status)
            # Re-assessment may raise the control level, never lower one an officer is already working.
            target = CHANNEL_STATUS[outcome.channel]
            channel = outcome.channel
            if current is not Status.ACCEPTED:
                target = current
                channel = row.channel or outcome.channel
            elif target is not current:
                self._transition(
                    session,
                    row.id,
                    mrn,
                    version,
                    current,
                    target,
                    actor,
                    now,
                    f"amended: {reason}; channel {outcome.channel}",
                )
            content_index = self._vault.blind_index("document", prepared.canonical.decode())
            session.execute(
                update(DeclarationRow)
                .where(DeclarationRow.id == row.id)
                .values(
                    current_version=version,
                    content_index=content_index,
                    updated_at=now,
                    status=target.value,
                    channel=channel,
                )
            )
            self._audit_event(
                session,
                actor,
                "declaration.amend",
                mrn,
                normalise_eori(model.declarant.eori),
                {"version": version, "reason": reason},
            )
            return LodgeResult(
                mrn, target.value, channel, version, prepared.findings, True, ledger_index, dict(outcome.reasons)
            )

    def decide(self, mrn: str, decision: Decision | str, actor: Actor, *, reason: str) -> Summary:
        """An officer's release, hold or reject of a declaration under control."""
        mrn = validate_mrn(mrn)
        try:
            decision = Decision(decision)
        except ValueError:
            raise InputError("decision: must be release, hold or reject", field="decision") from None
        if not reason.strip():
            raise InputError("reason: a decision needs a reason", field="reason")
        with self._sf() as session, session.begin():
            row = self._row_for_update(session, mrn)
            current = Status(row.status)
            target = DECISION_TARGET[decision]
            now = utcnow()
            self._transition(session, row.id, mrn, row.current_version, current, target, actor, now, reason)
            session.execute(
                update(DeclarationRow).where(DeclarationRow.id == row.id).values(status=target.value, updated_at=now)
            )
            self._audit_event(session, actor, f"declaration.decision.{decision.value}", mrn, None, {"reason": reason})
            return self._summary(row, status=target.value)

    def invalidate(self, mrn: str, actor: Actor, *, reason: str) -> Summary:
        mrn = validate_mrn(mrn)
        if not reason.strip():
            raise InputError("reason: invalidation needs a reason", field="reason")
        with self._sf() as session, session.begin():
            row = self._row_for_update(session, mrn)
            now = utcnow()
            self._transition(
                session, row.id, mrn, row.current_version, Status(row.status), Status.INVALIDATED, actor, now, reason
            )
            session.execute(
                update(DeclarationRow)
                .where(DeclarationRow.id == row.id)
                .values(status=Status.INVALIDATED.value, updated_at=now)
            )
            self._audit_event(session, actor, "declaration.invalidate", mrn, None, {"reason": reason})
            return self._summary(row, status=Status.INVALIDATED.value)

    # ------------------------------------------------------------------ reads

    def _find_by_lrn(self, session: Session, eori: str, lrn: str) -> DeclarationRow | None:
        index = self._vault.blind_index("eori", normalise_eori(eori))
        return session.execute(
            select(DeclarationRow).where(DeclarationRow.declarant_index == index, DeclarationRow.lrn == lrn)
        ).scalar_one_or_none()

    def _row_for_update(self, session: Session, mrn: str) -> DeclarationRow:
        row = session.execute(
            select(DeclarationRow).where(DeclarationRow.mrn == mrn).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
        return row

    @staticmethod
    def _summary(row: DeclarationRow, *, status: str | None = None) -> Summary:
        return Summary(
            row.id,
            row.mrn,
            row.lrn,
            row.type,
            row.office,
            status or row.status,
            row.channel,
            row.current_version,
            row.created_at,
        )

    def header(self, mrn: str) -> Summary:
        """Status and routing data only: nothing protected is read."""
        mrn = validate_mrn(mrn)
        with self._read() as session:
            row = session.execute(select(DeclarationRow).where(DeclarationRow.mrn == mrn)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            return self._summary(row)

    def party_key(self, eori: str) -> str:
        """What declarations store for a party: the blind index of its EORI."""
        return self._vault.blind_index("eori", normalise_eori(eori))

    def declarant_party(self, mrn: str) -> str:
        """The blind index of the declarant's EORI, for access decisions."""
        mrn = validate_mrn(mrn)
        with self._read() as session:
            index = session.execute(
                select(DeclarationRow.declarant_index).where(DeclarationRow.mrn == mrn)
            ).scalar_one_or_none()
            if index is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            return index

    def get(
        self,
        mrn: str,
        *,
        reveal: Callable[[str, DataCategory], bool] = lambda _p, _c: True,
        version: int | None = None,
        actor: Actor | None = None,
    ) -> DeclarationView:
        """The declaration with the protected values `reveal` allows opened (only those are decrypted).
        With an actor, the read of protected data is an audit event committed with the read."""
        mrn = validate_mrn(mrn)
        with self._sf() as session, session.begin():
            row = session.execute(select(DeclarationRow).where(DeclarationRow.mrn == mrn)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            wanted = version or row.current_version
            vrow = session.execute(
                select(DeclarationVersionRow).where(
                    DeclarationVersionRow.declaration_id == row.id, DeclarationVersionRow.version == wanted
                )
            ).scalar_one_or_none()
            if vrow is None:
                raise NotFound(f"version: {mrn} has no version {wanted}", field="version")
            opened: list[str] = []

            def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
                opened.extend(name for name, _entry in entries)
                plains = self._vault.open_many(
                    session,
                    [
                        (int(entry[1]), FieldRef(VERSION_TABLE, mrn, name, wanted), base64.b64decode(entry[2]))
                        for name, entry in entries
                    ],
                )
                return [ERASED_TEXT if isinstance(plain, Erased) else orjson.loads(plain) for plain in plains]

            document = documents.join(row.type, vrow.clear_doc, vrow.protected, reveal, open_values)
            if actor is not None and opened:
                self._audit_event(
                    session, actor, "declaration.read", mrn, None, {"version": wanted, "opened": sorted(opened)}
                )
            parties = session.execute(
                select(DeclarationPartyRow.role, DeclarationPartyRow.party_ref).where(
                    DeclarationPartyRow.declaration_id == row.id, DeclarationPartyRow.version == wanted
                )
            ).all()
            return DeclarationView(
                row.id,
                row.mrn,
                row.lrn,
                row.type,
                row.office,
                row.status,
                row.channel,
                wanted,
                row.created_at,
                row.updated_at,
                document,
                vrow.findings,
                {r: p for r, p in parties},
            )

    def receipt_for(self, mrn: str, version: int | None = None) -> dict[str, Any]:
        """The ledger receipt of a declaration version (the current one by default)."""
        mrn = validate_mrn(mrn)
        with self._read() as session:
            query = (
                select(DeclarationVersionRow.ledger_index, DeclarationVersionRow.version)
                .join(DeclarationRow, DeclarationRow.id == DeclarationVersionRow.declaration_id)
                .where(DeclarationRow.mrn == mrn)
            )
            if version is not None:
                query = query.where(DeclarationVersionRow.version == version)
            found = session.execute(query.order_by(DeclarationVersionRow.version.desc()).limit(1)).first()
        if found is None:
            raise NotFound(f"mrn: no declaration {mrn}" + (f" version {version}" if version else ""), field="mrn")
        if found[0] is None or self._receipts is None:
            raise NotFound(f"mrn: {mrn} version {found[1]} has no ledger entry", field="mrn")
        return self._receipts(int(found[0]))

    def events(self, mrn: str) -> list[dict[str, Any]]:
        mrn = validate_mrn(mrn)
        with self._read() as session:
            row = session.execute(select(DeclarationRow.id).where(DeclarationRow.mrn == mrn)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            rows = session.execute(
                select(DeclarationEventRow)
                .where(DeclarationEventRow.declaration_id == row)
                .order_by(DeclarationEventRow.id)
            ).scalars()
            return [
                {
                    "version": e.version,
                    "from": e.from_status,
                    "to": e.to_status,
                    "actor": e.actor,
                    "role": e.role,
                    "reason": e.reason,
                    "at": e.at.isoformat(),
                    "ledger_index": e.ledger_index,
                }
                for e in rows
            ]

    def list(
        self,
        filters: ListFilter | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        actor: Actor | None = None,
    ) -> Page:
        """Summaries only (nothing protected is decrypted); with an actor, the listing is audited."""
        filters = filters or ListFilter()
        if not 1 <= limit <= 500:
            raise InputError("limit: must be between 1 and 500", field="limit")
        query = select(DeclarationRow)
        if filters.status:
            query = query.where(DeclarationRow.status == filters.status)
        if filters.office:
            query = query.where(DeclarationRow.office == filters.office)
        if filters.offices is not None:
            query = query.where(DeclarationRow.office.in_(sorted(filters.offices)))
        if filters.type:
            query = query.where(DeclarationRow.type == filters.type)
        if filters.lrn:
            query = query.where(DeclarationRow.lrn == filters.lrn)
        if filters.since:
            query = query.where(DeclarationRow.created_at >= filters.since)
        if filters.until:
            query = query.where(DeclarationRow.created_at < filters.until)
        if filters.party_eoris is not None:
            indexes = sorted(self._vault.blind_index("eori", normalise_eori(e)) for e in filters.party_eoris)
            query = query.where(DeclarationRow.declarant_index.in_(indexes))
        if filters.party_eori:
            index = self._vault.blind_index("eori", normalise_eori(filters.party_eori))
            query = query.where(
                DeclarationRow.id.in_(
                    select(DeclarationPartyRow.declaration_id).where(DeclarationPartyRow.eori_index == index)
                )
            )
        if filters.party_name:
            index = self._vault.blind_index("name", normalise_name(filters.party_name))
            query = query.where(
                DeclarationRow.id.in_(
                    select(DeclarationPartyRow.declaration_id).where(DeclarationPartyRow.name_index == index)
                )
            )
        if cursor:
            query = query.where(DeclarationRow.id < open_cursor(self._vault, cursor))
        query = query.order_by(DeclarationRow.id.desc()).limit(limit + 1)
        with self._sf() as session, session.begin():
            rows = list(session.execute(query).scalars())
            if actor is not None:
                shown = {k: v for k, v in vars_of(filters).items() if v is not None and k != "party_eoris"}
                self._audit_event(
                    session,
                    actor,
                    "declaration.list",
                    None,
                    None,
                    {"filters": sorted(shown), "returned": min(len(rows), limit)},
                )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([self._summary(r) for r in rows], seal_cursor(self._vault, rows[-1].id) if more and rows else None)

    def count(self) -> int:
        with self._sf() as session:
            return int(session.execute(select(func.count()).select_from(DeclarationRow)).scalar_one())
