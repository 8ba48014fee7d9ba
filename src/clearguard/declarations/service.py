"""DeclarationService: the one way declarations are written and read.

Lodging runs: parse (strict) -> compliance rules -> MRN -> seal protected fields, blind indexes ->
ONE transaction: declaration, version, parties, transitions, ledger entry, audit event, risk channel.
Bad input raises before anything is written; any failure inside the transaction rolls all of it back.

This module is the thin part that does the I/O: it looks up, seals, sequences and inserts. What rows
each write makes is planned without I/O by `planner` (lodging, amendments and decisions alike), what
the ledger commits to is `record_format`, and the reads are `queries`.
"""

from __future__ import annotations

import builtins
import dataclasses
import secrets
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clearguard.categories import DataCategory
from clearguard.compliance.findings import Finding, Severity, has_errors
from clearguard.db import DriverStatement, bulk_insert, utcnow
from clearguard.declaration_model import DeclarationModel
from clearguard.declarations import disposal, documents, parties
from clearguard.declarations.categorised import leaves as documents_leaves
from clearguard.declarations.categorised import pointer
from clearguard.declarations.disposal import Candidate, Disposal
from clearguard.declarations.lifecycle import Decision, Status
from clearguard.declarations.mrn import PROCEDURE_LETTERS, make_mrn, validate_mrn
from clearguard.declarations.parse import to_model
from clearguard.declarations.planner import (
    NewDeclaration,
    Prepared,
    Stored,
    TransitionDraft,
    VersionDraft,
    audit_events,
    check_amendment,
    party_refs,
    plan_amendment,
    plan_decision,
    plan_lodging,
    plan_transition,
    plan_version,
    repeat_result,
    sealed_version,
    sort_batch,
    with_ledger_index,
)
from clearguard.declarations.ports import (
    AuditRecorder,
    FieldVault,
    LedgerSink,
    OneByOne,
    RetentionSchedule,
    RiskAssessor,
)
from clearguard.declarations.queries import DeclarationQueries, disposed_error, find_by_lrn, summary_of
from clearguard.declarations.record_format import TRANSITION_KIND, VERSION_KIND, risk_decision, transition_salt_ref
from clearguard.declarations.results import Actor, DeclarationView, ListFilter, LodgeResult, Page, Summary
from clearguard.declarations.statistics import StatisticalLines
from clearguard.declarations.subjects import SubjectDeclarations, SubjectKey, person_subject, trader_subject
from clearguard.declarations.tables import DECLARATIONS, EVENTS, PARTIES, VERSIONS, DeclarationPartyRow, DeclarationRow
from clearguard.errors import ClearGuardError, InputError, NotFound, ValidationFailed
from clearguard.ledger.commitment import commit_entries, commit_entry
from clearguard.ledger.errors import NotIntegrated
from clearguard.risk.lodging import RiskOutcome

NUL_RULE = "CG-SCHEMA-002"
_PACK_REF_KEY = "clearguard.declarations.pack_ref"
_SALT_BYTES = 32
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


# (kind, record id, canonical bytes, salt) -> ledger entry bytes that commit to the record.
EntryEncoder = Callable[[str, str, bytes, bytes], bytes]


class ComplianceChannel(OneByOne):
    """Channel without a risk engine: review findings send a declaration to documentary control."""

    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Finding], fresh: bool = False
    ) -> RiskOutcome:
        review = [f for f in findings if f.severity is Severity.REVIEW]
        if review:
            return RiskOutcome("yellow", None, {"rule_hits": [f.rule_id for f in review]})
        return RiskOutcome("green", None, {})


def nul_findings(doc: dict[str, Any]) -> list[Finding]:
    """NUL characters in text: no legitimate value has one, and PostgreSQL cannot store them."""
    return [
        Finding(
            NUL_RULE, Severity.ERROR, pointer(*path), f"{'.'.join(map(str, path))}: must not contain NUL characters"
        )
        for path, value in documents_leaves(doc)
        if isinstance(value, str) and "\x00" in value
    ]


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
        retention: RetentionSchedule | None = None,
    ) -> None:
        self._sf = session_factory
        self._compliance = compliance
        self._vault = vault
        self._ledger = ledger
        self._audit = audit
        self._risk: RiskAssessor = risk or ComplianceChannel()
        self._entry = entry_encoder
        self._receipts = receipts
        self.queries = DeclarationQueries(
            session_factory,
            read_factory or session_factory,
            vault=vault,
            audit=audit,
            receipts=receipts,
            retention=retention,
        )
        self.subjects = SubjectDeclarations(session_factory, vault)
        self.statistics = StatisticalLines(session_factory, read_factory or session_factory, vault=vault, audit=audit)

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
                return find_by_lrn(session, self._vault, eori, lrn) is not None

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
            # After the commit: the receipt proves the committed version is in the signed log. With
            # several workers another one signs; if it has not within the wait, the lodging still
            # stands (201) and its receipt_url gives the receipt once signed.
            try:
                return dataclasses.replace(outcome, receipt=self._receipts(outcome.ledger_index))
            except NotIntegrated:
                return outcome
        return outcome

    def lodge_many(
        self, docs: Iterable[tuple[int, dict[str, Any] | ClearGuardError]], actor: Actor, *, batch_size: int = 500
    ) -> Iterator[tuple[int, LodgeResult | ClearGuardError]]:
        """Bulk lodging, one transaction per batch; a bad line changes nothing and never stops the
        others. Yields each line's outcome once its batch has committed."""
        for committed in self.lodge_batches(docs, actor, batch_size=batch_size):
            yield from committed

    def lodge_batches(
        self, docs: Iterable[tuple[int, dict[str, Any] | ClearGuardError]], actor: Actor, *, batch_size: int = 500
    ) -> Iterator[list[tuple[int, LodgeResult | ClearGuardError]]]:
        """lodge_many, a batch at a time: each list is yielded only after its transaction committed,
        so a caller that reports it (the import's --json progress) never reports what a crash undoes."""
        batch: list[tuple[int, dict[str, Any] | ClearGuardError]] = []
        for item in docs:
            batch.append(item)
            if len(batch) >= batch_size:
                yield self._lodge_batch(batch, actor)
                batch = []
        if batch:
            yield self._lodge_batch(batch, actor)

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
        on = now.date()
        plan = sort_batch(
            keyed,
            known,
            actor_of_line,
            lambda item: make_mrn(item.model.office_of_presentation[:2], PROCEDURE_LETTERS[item.model.type], on=on),
        )
        results = plan.results
        if not plan.fresh:
            return [(line, result) for line, result in zip(plan.lines, results, strict=True) if result is not None]
        assessed = self._risk.assess_declarations(
            session, [(f.mrn, f.item.doc, f.item.findings) for f in plan.fresh], fresh=True
        )
        refs = [party_refs(self._vault, f.item.model) for f in plan.fresh]
        # Every party key the batch seals under, looked up in one query; sealing then finds each in
        # the transaction's own map.
        self._vault.keys_for_parties(session, [ref for party_refs_ in refs for ref in party_refs_.values()])
        pack_ref = self._pack_ref(session)
        new: list[NewDeclaration] = []
        rows_of: list[dict[str, Any]] = []
        for f, outcome, party_refs_ in zip(plan.fresh, assessed, refs, strict=True):
            planned = plan_lodging(
                self._vault, f.item, mrn=f.mrn, declarant_index=f.declarant_index, content_index=f.content_index,
                actor=f.actor, now=now, outcome=outcome, pack_ref=pack_ref, refs=party_refs_,
                salt=secrets.token_bytes(_SALT_BYTES), committed=self._ledger is not None,
            )  # fmt: skip
            new.append(planned)
            rows_of.append(self._seal(session, planned.version, party_refs_))
        for position, first_new, repeated in plan.repeats:
            results[position] = repeat_result(new[first_new].result, repeated)
        records = [planned.version.record for planned in new if planned.version.record is not None]
        indexes = self._append_entries(session, self._encode_versions(records))
        bulk_insert(session, DECLARATIONS, [planned.row for planned in new])
        # The ids the rows just got, by MRN (unique): one indexed read instead of a RETURNING per row.
        id_of: dict[str, int] = dict(_IDS_BY_MRN.rows(session, mrns=[planned.row["mrn"] for planned in new]))
        versions: list[dict[str, Any]] = []
        party_rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        position = 0
        for planned, version_row, position_in_results in zip(new, rows_of, plan.positions, strict=True):
            declaration_id = id_of[planned.row["mrn"]]
            ledger_index = None
            if planned.version.record is not None:
                ledger_index = indexes[position]
                position += 1
            versions.append(version_row | {"declaration_id": declaration_id, "ledger_index": ledger_index})
            # The result was planned before the ledger sequenced the batch: the index goes in now.
            results[position_in_results] = with_ledger_index(planned.result, ledger_index)
            party_rows.extend(p | {"declaration_id": declaration_id} for p in planned.version.parties)
            events.extend(e | {"declaration_id": declaration_id, "ledger_index": ledger_index} for e in planned.events)
        bulk_insert(session, VERSIONS, versions)
        bulk_insert(session, PARTIES, party_rows)
        bulk_insert(session, EVENTS, events)
        self._record(session, "declaration.lodge", [(p.actor, p.row["mrn"], p.eori, {"version": 1}) for p in new])
        return [(line, result) for line, result in zip(plan.lines, results, strict=True) if result is not None]

    def _seal(self, session: Session, draft: VersionDraft, refs: dict[str, str]) -> dict[str, Any]:
        """The version row of a draft, its values sealed under their parties' keys in one call."""
        key_ids = {part: self._vault.key_for_party(session, ref) for part, ref in refs.items()}
        blobs = self._vault.seal_many(session, [(key_ids[part], where, plain) for part, where, plain in draft.to_seal])
        return sealed_version(draft, key_ids, blobs)

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
        # Entries of one call are sequenced together: the first index, the rest in order.
        first = self._ledger.append_many(session, entries)
        return list(range(first, first + len(entries)))

    def _transition(self, session: Session, declaration_id: int, mrn: str, draft: TransitionDraft) -> None:
        """A transition with its own ledger entry; its salt sealed under the declarant's key."""
        [ledger_index] = self._append_entries(session, [self._entry(TRANSITION_KIND, mrn, draft.canonical, draft.salt)])
        key_id = self._declarant_key(session, declaration_id)
        sealed = None
        if ledger_index is not None:
            version = draft.row["version"]
            sealed = self._vault.seal(
                session, key_id, transition_salt_ref(mrn, version, ledger_index), draft.salt.hex()
            )
        session.execute(
            EVENTS.insert(),
            draft.row
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
        self, session: Session, declaration_id: int, draft: VersionDraft, refs: dict[str, str]
    ) -> int | None:
        row = self._seal(session, draft, refs)
        [ledger_index] = (
            self._append_entries(session, self._encode_versions([draft.record])) if draft.record else [None]
        )
        session.execute(VERSIONS.insert(), row | {"declaration_id": declaration_id, "ledger_index": ledger_index})
        session.execute(PARTIES.insert(), [p | {"declaration_id": declaration_id} for p in draft.parties])
        return ledger_index

    def _record(
        self, session: Session, action: str, items: list[tuple[Actor, str | None, str | None, dict[str, Any] | None]]
    ) -> None:
        """One audit event per (actor, MRN, declarant EORI, details), recorded together."""
        if self._audit is None or not items:
            return
        self._audit.record_many(session, audit_events(self._vault, action, items))

    def _row_for_update(self, session: Session, mrn: str) -> DeclarationRow:
        row = session.execute(
            select(DeclarationRow).where(DeclarationRow.mrn == mrn).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
        if row.disposal_run is not None:
            raise disposed_error(row)
        return row

    def amend(self, mrn: str, doc: dict[str, Any], actor: Actor, *, reason: str) -> LodgeResult:
        """A new version of an accepted declaration; re-validated and re-assessed, never overwriting."""
        mrn = validate_mrn(mrn)
        if not reason.strip():
            raise InputError("reason: an amendment needs a reason", field="reason")
        prepared = self.prepare(doc)
        model = prepared.model
        with self._sf() as session, session.begin():
            row = self._row_for_update(session, mrn)
            stored = Stored(
                row.lrn, row.type, row.declarant_index, row.office, Status(row.status), row.channel, row.current_version
            )
            check_amendment(
                stored, prepared, self._vault.blind_index("eori", normalise_eori(model.declarant.eori)), mrn=mrn
            )
            version = stored.version + 1
            now = utcnow()
            refs = party_refs(self._vault, model)
            # Assessed first: the version's entry commits to the decision taken on it.
            outcome = self._risk.assess_declaration(session, mrn=mrn, payload=prepared.doc, findings=prepared.findings)
            draft = plan_version(
                self._vault, mrn, version, prepared, actor, now, reason=reason, refs=refs,
                salt=secrets.token_bytes(_SALT_BYTES), committed=self._ledger is not None,
                decision=risk_decision(outcome.reasons),
            )  # fmt: skip
            ledger_index = self._store_version(session, row.id, draft, refs)
            amendment = plan_amendment(stored, outcome, reason)
            if amendment.routing is not None:
                current, target, why = amendment.routing
                routed = plan_transition(
                    mrn, version, current, target, actor, now, why, salt=secrets.token_bytes(_SALT_BYTES)
                )
                self._transition(session, row.id, mrn, routed)
            content_index = self._vault.blind_index("document", prepared.canonical.decode())
            session.execute(
                update(DeclarationRow)
                .where(DeclarationRow.id == row.id)
                .values(
                    current_version=version,
                    content_index=content_index,
                    updated_at=now,
                    status=amendment.target.value,
                    channel=amendment.channel,
                )
            )
            self._record(
                session,
                "declaration.amend",
                [(actor, mrn, normalise_eori(model.declarant.eori), {"version": version, "reason": reason})],
            )
            return LodgeResult(
                mrn, amendment.target.value, amendment.channel, version, prepared.findings, True, ledger_index,
                dict(outcome.reasons),
            )  # fmt: skip

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
            now = utcnow()
            draft = plan_decision(
                mrn, row.current_version, Status(row.status), decision, actor, now, reason,
                salt=secrets.token_bytes(_SALT_BYTES),
            )  # fmt: skip
            self._transition(session, row.id, mrn, draft)
            target = draft.row["to_status"]
            session.execute(
                update(DeclarationRow).where(DeclarationRow.id == row.id).values(status=target, updated_at=now)
            )
            self._record(session, f"declaration.decision.{decision.value}", [(actor, mrn, None, {"reason": reason})])
            return summary_of(row, status=target)

    def invalidate(self, mrn: str, actor: Actor, *, reason: str) -> Summary:
        mrn = validate_mrn(mrn)
        if not reason.strip():
            raise InputError("reason: invalidation needs a reason", field="reason")
        with self._sf() as session, session.begin():
            row = self._row_for_update(session, mrn)
            now = utcnow()
            draft = plan_transition(
                mrn, row.current_version, Status(row.status), Status.INVALIDATED, actor, now, reason,
                salt=secrets.token_bytes(_SALT_BYTES),
            )  # fmt: skip
            self._transition(session, row.id, mrn, draft)
            session.execute(
                update(DeclarationRow)
                .where(DeclarationRow.id == row.id)
                .values(status=Status.INVALIDATED.value, updated_at=now)
            )
            self._record(session, "declaration.invalidate", [(actor, mrn, None, {"reason": reason})])
            return summary_of(row, status=Status.INVALIDATED.value)

    # ------------------------------------------------------------------ reads (queries)

    def party_key(self, eori: str) -> str:
        """What declarations store for a party: the blind index of its EORI."""
        return self._vault.blind_index("eori", normalise_eori(eori))

    def header(self, mrn: str) -> Summary:
        return self.queries.header(mrn)

    def declarant_party(self, mrn: str) -> str:
        return self.queries.declarant_party(mrn)

    def get(
        self,
        mrn: str,
        *,
        reveal: Callable[[str, DataCategory], bool] = lambda _p, _c: True,
        version: int | None = None,
        actor: Actor | None = None,
    ) -> DeclarationView:
        return self.queries.get(mrn, reveal=reveal, version=version, actor=actor)

    def receipt_for(self, mrn: str, version: int | None = None) -> dict[str, Any]:
        return self.queries.receipt_for(mrn, version)

    def events(self, mrn: str) -> list[dict[str, Any]]:
        return self.queries.events(mrn)

    def list(
        self,
        filters: ListFilter | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        actor: Actor | None = None,
    ) -> Page:
        return self.queries.list(filters, limit=limit, cursor=cursor, actor=actor)

    def count(self) -> int:
        return self.queries.count()

    # ------------------------------------------------------------------ retention (in the caller's transaction)

    def disposal_candidates(self, session: Session, *, after_id: int = 0, limit: int = 5000) -> Sequence[Candidate]:
        """Declarations not disposed of, by id, a page at a time: what a retention run schedules."""
        return disposal.candidates(session, after_id=after_id, limit=limit)

    def party_keys(self, session: Session, ids: Sequence[int]) -> dict[int, set[str]]:
        """Each declaration's party references, as a party hold names them."""
        return disposal.party_keys(session, ids)

    def declarations_of_parties(self, session: Session, party_refs: Collection[str]) -> set[int]:
        """Ids of the declarations in which any of the parties appears, in any role."""
        return disposal.declarations_of(session, party_refs)

    def ids_of(self, session: Session, mrns: Collection[str]) -> dict[str, int]:
        return disposal.ids_of(session, mrns)

    def dispose(self, session: Session, ids: Sequence[int], *, run: int, at: datetime) -> Disposal:
        """Disposes of the declarations (see clearguard.declarations.disposal)."""
        return disposal.dispose(session, ids, run=run, at=at)

    def parties_still_used(self, session: Session, party_refs: Collection[str]) -> set[str]:
        return disposal.still_used(session, party_refs)

    def disposals(self, session: Session) -> dict[str, int | None]:
        """MRN -> disposal run of every disposed declaration."""
        return disposal.disposals(session)
    # ------------------------------------------------------------------ data subjects (privacy)

    def trader_subject(self, eori: str) -> SubjectKey:
        """How a trader is found as a data subject: its party reference and EORI index."""
        return trader_subject(self._vault, eori)

    def person_subject(self, name: str, postcode: str | None, country: str) -> SubjectKey:
        """How a natural person is found as a data subject: its reference and name index."""
        return person_subject(self._vault, name, postcode, country)

    def subject_declarations(self, subject: SubjectKey) -> builtins.list[dict[str, Any]]:
        """Every declaration the subject appears in, in any role, decrypted and cut to the subject:
        for a subject access report only (the caller audits it)."""
        return self.subjects.report(subject)

    def subject_mrns(self, session: Session, subject: SubjectKey) -> builtins.list[str]:
        """MRNs of the declarations naming the subject (by reference or EORI), from indexes only."""
        return self.subjects.mrns(session, subject)

    # ------------------------------------------------------------------ statistics (sharing)

    def statistical_lines(
        self, since: datetime, until: datetime, *, actor: Actor | None = None
    ) -> builtins.list[dict[str, Any]]:
        """The goods lines of the declarations in force accepted in [since, until): code and trade
        fields, the acceptance date, and the statistical value (confidential: to be released only
        as bands). See clearguard.declarations.statistics; with an actor the read is audited."""
        return self.statistics.lines(since, until, actor=actor)
