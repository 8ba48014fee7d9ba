"""RetentionService: the policies, legal holds and disposal runs; the one way into retention.

It also answers for retention elsewhere: the schedule a declaration view prints (Schedule), the hold
guard that refuses a shred while a hold covers the party (a crypto ShredListener), and the policy and
hold facts a subject access report quotes (privacy's RetentionView).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit import NewAuditEvent
from clearguard.declarations import Candidate
from clearguard.errors import InputError
from clearguard.retention import holds
from clearguard.retention.holds import HeldError, Hold
from clearguard.retention.policy import PolicySet
from clearguard.retention.register import certificate_digest, read_certificates, write_certificate
from clearguard.retention.run import (
    AuditSink,
    Declarations,
    Disposer,
    KeyShredder,
    LedgerSink,
    OtherRecords,
    Progress,
    RiskRecords,
    RunReport,
    TravellerRecords,
)
from clearguard.retention.schedule import Schedule
from clearguard.retention.tables import DisposalRunRow

PartyResolver = Callable[[str], str]
PersonResolver = Callable[[str, str | None, str], str]


class RetentionService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        schedule: Schedule,
        declarations: Declarations,
        risk: RiskRecords,
        keys: KeyShredder | None,
        ledger: LedgerSink,
        audit: AuditSink,
        resolve_party: PartyResolver,
        resolve_person: PersonResolver | None = None,
        travellers: TravellerRecords | None = None,
        register: Path | None = None,
        purge: Callable[[], None] | None = None,
        batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sf = factory
        self._register = register
        self._purge = purge  # clears storage of what was deleted (db.purge_freed)
        self.calendar = schedule  # declarations.ports.RetentionSchedule, built before this service
        self._declarations = declarations
        self._audit = audit
        self._resolve = resolve_party
        self._resolve_person = resolve_person
        self._clock = clock
        self._disposer = Disposer(
            factory,
            schedule=schedule,
            declarations=declarations,
            risk=risk,
            keys=keys,
            ledger=ledger,
            audit=audit,
            travellers=travellers,
            clock=clock,
            batch=batch,
        )

    def add_records(self, records: OtherRecords) -> None:
        """Another capability's records (exchange packages, activity events) that runs dispose of."""
        self._disposer.others.append(records)

    @property
    def policies(self) -> PolicySet:
        return self.calendar.policies

    # --- privacy's RetentionView ---------------------------------------------------------------

    def policy_list(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.policies.policies]

    def jurisdictions(self) -> dict[str, list[str]]:
        return {name: list(members) for name, members in self.policies.jurisdictions.items()}

    def schedule(self, session: Session, mrns: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Per MRN still held: its due date and policy, and whether a hold keeps it."""
        ids = self._declarations.ids_of(session, mrns)
        # Legal holds only: an open request protects its evidence from disposal, but is no legal hold
        # (the request being answered is what asks).
        held = holds.held_declarations(session, self._declarations)
        out: dict[str, dict[str, Any]] = {}
        candidates = {c.id: c for c in self._candidates(session, ids.values())}
        for mrn, declaration_id in ids.items():
            candidate = candidates.get(declaration_id)
            if candidate is None:
                continue  # disposed of already
            entry = self.calendar.declaration(candidate.office, candidate.created_at).to_dict()
            entry["held"] = declaration_id in held
            out[mrn] = entry
        return out

    def _candidates(self, session: Session, ids: Collection[int]) -> list[Candidate]:
        wanted = set(ids)
        if not wanted:
            return []
        found: list[Candidate] = []
        after = min(wanted) - 1
        while True:
            page = self._declarations.disposal_candidates(session, after_id=after, limit=5000)
            if not page:
                return found
            found.extend(c for c in page if c.id in wanted)
            after = page[-1].id
            if after >= max(wanted):
                return found

    def holds_covering(self, session: Session, party_ref: str, mrns: Sequence[str]) -> list[dict[str, Any]]:
        return [h.to_dict() for h in holds.covering(session, mrns=mrns, parties=[party_ref])]

    # --- legal holds ---------------------------------------------------------------------------

    def add_hold(
        self,
        *,
        party: str | None = None,
        person: tuple[str, str | None, str] | None = None,
        mrn: str | None = None,
        case_id: str | None = None,
        reason: str,
        owner: str,
        review: date | None = None,
        actor: str,
        role: str = "dpo",
        source: str = "cli",
    ) -> Hold:
        """A hold on a party (a trader's EORI or a stored party reference; a natural person as
        (name, postcode, country)) or a declaration (MRN), with an optional case id (the appeal, court
        case or audit it serves). The party or declaration must exist: a hold on nothing protects
        nothing."""
        if person is not None:
            if party is not None or mrn is not None:
                raise InputError("party: give one of a party, a person or an MRN", field="party")
            name, postcode, country = person
            if not name.strip() or not country.strip():
                raise InputError("country: a person is named by name, postcode and country", field="country")
            if self._resolve_person is None:
                raise InputError("person: no person reference is configured", field="person")
            party = self._resolve_person(name, postcode, country)
        if (party is None) == (mrn is None):
            if party is None and case_id is not None:
                raise InputError("case: a case hold names what it keeps: add --party EORI or --mrn MRN", field="case")
            raise InputError("party: give exactly one of a party (EORI) or an MRN", field="party")
        with self._sf() as session, session.begin():
            if mrn is not None:
                scope, target = "mrn", mrn.strip().upper()
                if target not in self._declarations.ids_of(session, [target]):
                    raise InputError(f"mrn: no declaration {target}", field="mrn")
            else:
                assert party is not None
                scope, target = "party", self._resolve(party)
                if not self._declarations.declarations_of_parties(session, [target]):
                    raise InputError("party: no declaration names this party", field="party")
            hold = holds.add(
                session, scope=scope, target=target, case_id=case_id, reason=reason, owner=owner,
                review=review, actor=actor, now=self._clock(),
            )  # fmt: skip
            self._audit.record(
                session,
                NewAuditEvent(
                    actor=actor, role=role, action="retention.hold.add", record_type="legal_hold",
                    record_id=str(hold.id), party=target if scope == "party" else None, source=source,
                    justification=hold.reason, details={"scope": scope, "case": hold.case_id},
                ),
            )  # fmt: skip
            return hold

    def release_hold(self, hold_id: int, *, reason: str, actor: str, role: str = "dpo", source: str = "cli") -> Hold:
        with self._sf() as session, session.begin():
            hold = holds.release(session, hold_id, reason=reason, actor=actor, now=self._clock())
            self._audit.record(
                session,
                NewAuditEvent(
                    actor=actor, role=role, action="retention.hold.release", record_type="legal_hold",
                    record_id=str(hold_id), party=None, source=source, justification=hold.release_reason,
                ),
            )  # fmt: skip
            return hold

    def list_holds(self, *, active_only: bool = True) -> list[Hold]:
        with self._sf() as session:
            return holds.listed(session, active_only=active_only)

    # --- the hold guard (a crypto ShredListener) -------------------------------------------------

    def party_shredded(self, session: Session, party_ref: str) -> None:
        """Refuses a shred (`keys shred`, an erasure request) while a hold covers the party or any
        declaration its key seals or names it in: the shred's transaction then rolls back."""
        direct = holds.covering(session, mrns=[], parties=[party_ref])
        if not direct:
            held = holds.held_declarations(session, self._declarations)
            if not held or not (held & self._declarations.declarations_of_parties(session, [party_ref])):
                return
        hold = direct[0] if direct else None
        named = f"legal hold {hold.id} (owner {hold.owner})" if hold else "a legal hold on a declaration it appears in"
        raise HeldError(f"party: held by {named}; erasure is suspended until the hold is released", field="party")

    # --- disposal ------------------------------------------------------------------------------

    def run(
        self,
        *,
        as_of: datetime | None = None,
        actor: str,
        dry_run: bool = False,
        progress: Progress | None = None,
        role: str = "dpo",
        source: str = "cli",
    ) -> RunReport:
        """Dispose of what is due at `as_of` (now by default); see clearguard.retention.run. Each
        certificate is also kept in the register beside the database (`register`), so that a backup
        restored from before the run is disposed of again (reapply_after_restore)."""
        report = self._disposer.run(
            as_of=as_of or self._clock(), actor=actor, dry_run=dry_run, progress=progress, role=role, source=source
        )
        self._keep(report)
        return report

    def _keep(self, report: RunReport) -> None:
        if report.full_certificate is None:
            return
        if self._purge is not None:
            self._purge()
        if self._register is None:
            return
        write_certificate(self._register, report.full_certificate)

    def reapply_after_restore(self, *, actor: str, role: str = "system", source: str = "cli") -> RunReport | None:
        """After a restore: dispose again of what the register's certificates name and the restored
        database does not know as disposed (the backup was taken before those runs). None when
        nothing is pending."""
        if self._register is None:
            return None
        with self._sf() as session:
            known = self._known_certificates(session)
        pending = {digest: cert for digest, cert in read_certificates(self._register).items() if digest not in known}
        if not pending:
            return None
        mrns = {m for cert in pending.values() for m in cert.get("mrns", []) if isinstance(m, str)}
        as_of = max(datetime.fromisoformat(str(cert["as_of"])) for cert in pending.values())
        report = self._disposer.reapply(
            mrns=mrns, as_of=as_of, actor=actor, reapplies=sorted(pending), role=role, source=source
        )
        self._keep(report)
        return report

    @staticmethod
    def _known_certificates(session: Session) -> set[str]:
        known: set[str] = set()
        for certificate in session.scalars(
            select(DisposalRunRow.certificate).where(DisposalRunRow.status == "complete")
        ):
            if isinstance(certificate, dict):
                known.add(certificate_digest(certificate))
                known.update(str(d) for d in certificate.get("reapplies", []))
        return known
