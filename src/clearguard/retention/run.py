"""`retention run`: dispose of what is due, in batches, and close the run with its certificate.

A run is planned from the schedule (every declaration not yet disposed of, its due date from the
policies), less what holds and open data-subject requests keep. Each batch is one transaction: the
declarations' rows are emptied (clearguard.declarations.disposal), their risk records deleted, and the
data key of every party with nothing left to keep is crypto-shredded (its share destroyed once the
batch commits, so no copy of the wrapped key, backups included, opens again). Traveller records past
their period go the same way. The run's row is written first; a run killed midway is found again by
the next `retention run` and finished under the same date, so the end state is that of one
uninterrupted run. The last transaction writes the certificate and its ledger entry.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit import NewAuditEvent
from clearguard.categories import DataCategory
from clearguard.declarations import Candidate, Disposal
from clearguard.ledger.commitment import commitment, encode_entry
from clearguard.retention import holds
from clearguard.retention.certificate import LEDGER_KIND, canonical, mrns_digest, record_id
from clearguard.retention.policy import Period, Policy
from clearguard.retention.schedule import Schedule
from clearguard.retention.tables import DisposalRunRow
from clearguard.travellers import DisposalResult as TravellerDisposal

Progress = Callable[[int, int], None]
BATCH = 500


class Declarations(Protocol):
    def disposal_candidates(self, session: Session, *, after_id: int = 0, limit: int = 5000) -> Sequence[Candidate]: ...

    def declarations_of_parties(self, session: Session, party_refs: Collection[str]) -> set[int]: ...

    def ids_of(self, session: Session, mrns: Collection[str]) -> dict[str, int]: ...

    def dispose(self, session: Session, ids: Sequence[int], *, run: int, at: datetime) -> Disposal: ...

    def parties_still_used(self, session: Session, party_refs: Collection[str]) -> set[str]: ...

    def disposals(self, session: Session) -> dict[str, int | None]: ...


class RiskRecords(Protocol):
    def dispose(self, session: Session, references: Sequence[str]) -> int: ...


class KeyShredder(Protocol):
    def shred_many(self, session: Session, party_refs: Sequence[str], *, notify: bool = True) -> int:
        """Shreds the parties' data keys in the caller's transaction; returns how many."""
        ...


class TravellerRecords(Protocol):
    def due(self, session: Session, created_before: datetime) -> list[int]: ...

    def dispose(self, session: Session, ids: Sequence[int]) -> TravellerDisposal: ...


class OtherRecords(Protocol):
    """Records of a capability above retention (exchange packages received, activity events) that a
    run disposes of: what is due at `as_of` by the capability's own dates, or recorded before
    `audit_before` (the audit trail's cut, None while it is kept without end). `count_key` names
    the count in the certificate."""

    count_key: str

    def count_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int: ...

    def dispose_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int: ...


class LedgerSink(Protocol):
    def append_many(self, session: Session, entries: Sequence[bytes]) -> int: ...


class AuditSink(Protocol):
    def record(self, session: Session, event: NewAuditEvent) -> object: ...

    def dispose_before(
        self,
        session: Session,
        *,
        before: datetime,
        run: int,
        keep_records: Collection[str] = (),
        keep_parties: Collection[str] = (),
        after_id: int = 0,
        limit: int = 5000,
    ) -> tuple[int, int | None]:
        """Disposes of events recorded before `before` but those held; (count, last id looked at)."""
        ...


@dataclass
class Plan:
    """What a run would do: due declarations by policy, and those a hold keeps."""

    due: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (MRN, policy id)
    held: set[int] = field(default_factory=set)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # policy id -> what the certificate says
    travellers_before: datetime | None = None
    audit_before: datetime | None = None  # events recorded before it are due

    @property
    def to_dispose(self) -> list[int]:
        return sorted(set(self.due) - self.held)

    def by_policy(self, ids: Sequence[int]) -> dict[str, int]:
        """How many of `ids` each policy makes due (`unscheduled`: reapplied after a restore, not due
        by the schedule at the run's date)."""
        counts: dict[str, int] = {}
        for declaration_id in ids:
            policy = self.due.get(declaration_id, ("", "unscheduled"))[1]
            counts[policy] = counts.get(policy, 0) + 1
        return counts


@dataclass
class RunReport:
    run: int | None
    resumed: bool
    dry_run: bool
    as_of: datetime
    counts: dict[str, int]
    held: int
    by_policy: dict[str, int]
    certificate: dict[str, Any] | None
    # The whole certificate (with every MRN), for the register kept beside the database.
    full_certificate: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "resumed": self.resumed,
            "dry_run": self.dry_run,
            "as_of": self.as_of.isoformat(),
            "disposed": self.counts,
            "held": self.held,
            "by_policy": self.by_policy,
            "certificate": self.certificate,
        }


_COUNTS = ("declarations", "versions", "transitions", "risk_records", "parties_shredded", "keys_shredded",
           "traveller_records", "travellers_shredded", "audit_events")  # fmt: skip


def _pages(session: Session, declarations: Declarations) -> Iterator[Candidate]:
    after = 0
    while True:
        page = declarations.disposal_candidates(session, after_id=after, limit=5000)
        if not page:
            return
        yield from page
        after = page[-1].id


def plan(session: Session, schedule: Schedule, declarations: Declarations, as_of: datetime) -> Plan:
    out = Plan()
    for candidate in _pages(session, declarations):
        due = schedule.declaration(candidate.office, candidate.created_at)
        if due.due is not None and due.due <= as_of:
            out.due[candidate.id] = (candidate.mrn, due.policy.id)
            if due.policy.id not in out.policies:
                out.policies[due.policy.id] = {
                    "period": due.to_dict()["period"],
                    "start_event": due.policy.start,
                    "legal_basis": due.policy.legal_basis,
                }
    if out.due:
        out.held = set(out.due) & holds.held_declarations(session, declarations, schedule.open_request_parties(session))
    traveller = schedule.record("traveller", DataCategory.BIOMETRIC, "", as_of)
    period = traveller.policy.period
    if period is not None and not period.years and not period.months:
        out.travellers_before = as_of - timedelta(days=period.days)
    out.audit_before = due_before(schedule.record("audit_event", DataCategory.PERSONAL, "", as_of).policy, as_of)
    return out


def due_before(policy: Policy, as_of: datetime) -> datetime | None:
    """The instant before which every record under `policy` (its period running from when it was
    recorded) is due at `as_of`; None when it is kept without end."""
    period = policy.period
    if period is None:
        return None
    if not period.years and not period.months:
        return as_of - timedelta(days=period.days)
    # due = the start of the day after start + period: due <= as_of for a start day d when
    # d + period <= as_of's day - 1, that is d <= (as_of's day - 1) - period.
    last = Period(-period.years, -period.months, -period.days).after(as_of.date() - timedelta(days=1))
    return datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=as_of.tzinfo)


class Disposer:
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
        travellers: TravellerRecords | None = None,
        clock: Callable[[], datetime],
        batch: int = BATCH,
    ) -> None:
        self.others: list[OtherRecords] = []
        self._sf = factory
        self._batch_size = batch
        self._schedule = schedule
        self._declarations = declarations
        self._risk = risk
        self._keys = keys
        self._ledger = ledger
        self._audit = audit
        self._travellers = travellers
        self._clock = clock

    def run(
        self,
        *,
        as_of: datetime,
        actor: str,
        dry_run: bool = False,
        progress: Progress | None = None,
        role: str = "dpo",
        source: str = "cli",
    ) -> RunReport:
        with self._sf() as session:
            pending = (
                session.execute(
                    select(DisposalRunRow).where(DisposalRunRow.status == "running").order_by(DisposalRunRow.id)
                )
                .scalars()
                .first()
            )
            resumed = pending is not None and not dry_run
            if resumed:
                assert pending is not None
                as_of, actor = pending.as_of, pending.actor
            the_plan = plan(session, self._schedule, self._declarations, as_of)
        if dry_run:
            counts = dict.fromkeys(_COUNTS, 0)
            counts["declarations"] = len(the_plan.to_dispose)
            if self._travellers is not None and the_plan.travellers_before is not None:
                with self._sf() as session:
                    counts["traveller_records"] = len(self._travellers.due(session, the_plan.travellers_before))
            with self._sf() as session:
                for other in self.others:
                    counts[other.count_key] = other.count_due(session, as_of=as_of, audit_before=the_plan.audit_before)
            by_policy = the_plan.by_policy(the_plan.to_dispose)
            return RunReport(None, False, True, as_of, counts, len(the_plan.held), by_policy, None)
        run_id = self._start(pending, as_of, actor)
        return self._execute(run_id, the_plan, the_plan.to_dispose, resumed, as_of, actor, role, source, progress, {})

    def reapply(
        self, *, mrns: set[str], as_of: datetime, actor: str, reapplies: list[str], role: str, source: str
    ) -> RunReport:
        """Disposes again of the declarations `mrns` (a backup restored from before their disposal
        brought them back), under a new run whose certificate names the certificates it reapplies."""
        with self._sf() as session:
            the_plan = plan(session, self._schedule, self._declarations, as_of)
            live = {c.id for c in _pages(session, self._declarations)}
            ids = sorted(i for i in self._declarations.ids_of(session, mrns).values() if i in live)
        the_plan.held = set()
        run_id = self._start(None, as_of, actor)
        extra = {"reapplies": sorted(reapplies)}
        return self._execute(run_id, the_plan, ids, False, as_of, actor, role, source, None, extra)

    def _execute(
        self,
        run_id: int,
        the_plan: Plan,
        todo: list[int],
        resumed: bool,
        as_of: datetime,
        actor: str,
        role: str,
        source: str,
        progress: Progress | None,
        extra: dict[str, Any],
    ) -> RunReport:
        by_policy = the_plan.by_policy(todo)
        total = len(todo)
        if progress is not None:
            progress(0, total)
        size = self._batch_size
        for start in range(0, total, size):
            self._batch(run_id, todo[start : start + size])
            if progress is not None:
                progress(min(start + size, total), total)
        if self._travellers is not None and the_plan.travellers_before is not None:
            self._travellers_batch(run_id, the_plan.travellers_before)
        for other in self.others:
            with self._sf() as session, session.begin():
                done = other.dispose_due(session, as_of=as_of, audit_before=the_plan.audit_before)
                if done:
                    self._add_counts(session, run_id, **{other.count_key: done})
        if the_plan.audit_before is not None:
            self._audit_batches(run_id, the_plan.audit_before)
            extra = {**extra, "audit_events_before": the_plan.audit_before.isoformat()}
        certificate = self._finish(run_id, the_plan, actor, role, source, extra)
        counts = {k: int(v) for k, v in certificate["disposed"].items()}
        summary = {k: certificate[k] for k in ("run", "as_of", "finished_at", "actor", "policy_version", "mrns_sha256")}
        summary["ledger_index"] = certificate["ledger_index"]
        report = RunReport(run_id, resumed, False, as_of, counts, len(the_plan.held), by_policy, summary)
        report.full_certificate = {k: v for k, v in certificate.items() if k != "ledger_index"}
        return report

    def _start(self, pending: DisposalRunRow | None, as_of: datetime, actor: str) -> int:
        if pending is not None:
            return pending.id
        with self._sf() as session, session.begin():
            row = DisposalRunRow(
                status="running",
                as_of=as_of,
                actor=actor,
                started_at=self._clock(),
                policy_version=self._schedule.policies.version,
                certificate={"disposed": dict.fromkeys([*_COUNTS, *(o.count_key for o in self.others)], 0)},
                batches=0,
            )
            session.add(row)
            session.flush()
            return row.id

    def _add_counts(self, session: Session, run_id: int, **counts: int) -> None:
        row = session.execute(select(DisposalRunRow).where(DisposalRunRow.id == run_id).with_for_update()).scalar_one()
        certificate = dict(row.certificate or {})
        disposed = dict(certificate.get("disposed", {}))
        for key, value in counts.items():
            disposed[key] = int(disposed.get(key, 0)) + value
        certificate["disposed"] = disposed
        session.execute(
            update(DisposalRunRow)
            .where(DisposalRunRow.id == run_id)
            .values(certificate=certificate, batches=DisposalRunRow.batches + 1)
        )

    def _batch(self, run_id: int, ids: list[int]) -> None:
        with self._sf() as session, session.begin():
            # Checked again inside the batch's transaction: a hold placed since the plan wins.
            held = holds.held_declarations(session, self._declarations, self._schedule.open_request_parties(session))
            ids = [i for i in ids if i not in held]
            if not ids:
                return
            disposal = self._declarations.dispose(session, ids, run=run_id, at=self._clock())
            risk = self._risk.dispose(session, disposal.mrns)
            unused = sorted(disposal.party_refs - self._declarations.parties_still_used(session, disposal.party_refs))
            keys = 0
            if self._keys is not None and unused:
                # Holds were checked above in this transaction, and the parties' rows are gone: the
                # erasure listeners (which also clear a party's mentions in other, retained
                # declarations) have nothing to do here.
                keys = self._keys.shred_many(session, unused, notify=False)
            self._add_counts(
                session,
                run_id,
                declarations=disposal.declarations,
                versions=disposal.versions,
                transitions=disposal.transitions,
                risk_records=risk,
                parties_shredded=len(unused) if self._keys is not None else 0,
                keys_shredded=keys,
            )

    def _travellers_batch(self, run_id: int, before: datetime) -> None:
        assert self._travellers is not None
        with self._sf() as session, session.begin():
            ids = self._travellers.due(session, before)
            if not ids:
                return
            result = self._travellers.dispose(session, ids)
            self._add_counts(
                session,
                run_id,
                traveller_records=result.records,
                travellers_shredded=result.travellers_shredded,
            )

    def _audit_batches(self, run_id: int, before: datetime) -> None:
        """Audit events past their period, but those about held records or parties."""
        with self._sf() as session:
            held = holds.held_declarations(session, self._declarations, self._schedule.open_request_parties(session))
            held_mrns = {c.mrn for c in _pages(session, self._declarations) if c.id in held}
            parties = {h.target for h in holds.listed(session) if h.scope == "party"}
            parties |= self._schedule.open_request_parties(session)
        # Events name a trader by the blind index of its EORI (`eori:<index>` is its reference).
        kept_parties = {p.removeprefix("eori:") for p in parties}
        after = 0
        while True:
            with self._sf() as session, session.begin():
                count, last = self._audit.dispose_before(
                    session, before=before, run=run_id, keep_records=held_mrns, keep_parties=kept_parties,
                    after_id=after, limit=self._batch_size * 10,
                )  # fmt: skip
                if last is None:
                    return
                if count:
                    self._add_counts(session, run_id, audit_events=count)
            after = last

    def _finish(
        self, run_id: int, the_plan: Plan, actor: str, role: str, source: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        with self._sf() as session, session.begin():
            row = session.execute(
                select(DisposalRunRow).where(DisposalRunRow.id == run_id).with_for_update()
            ).scalar_one()
            mrns = sorted(m for m, r in self._declarations.disposals(session).items() if r == run_id)
            named = set(mrns)
            policies = sorted({policy for mrn, policy in the_plan.due.values() if mrn in named})
            finished = self._clock()
            certificate: dict[str, Any] = {
                "run": run_id,
                "as_of": row.as_of.isoformat(),
                "started_at": row.started_at.isoformat(),
                "finished_at": finished.isoformat(),
                "actor": row.actor,
                "policy_version": row.policy_version,
                "policies": {p: the_plan.policies[p] for p in policies if p in the_plan.policies},
                "disposed": dict((row.certificate or {}).get("disposed", {})),
                "held": len(the_plan.held),
                "mrns": mrns,
                "mrns_sha256": mrns_digest(mrns),
                **extra,
            }
            salt = secrets.token_bytes(32)
            value = commitment(LEDGER_KIND, record_id(run_id), canonical(certificate), salt)
            index = self._ledger.append_many(session, [encode_entry(LEDGER_KIND, record_id(run_id), value)])
            session.execute(
                update(DisposalRunRow)
                .where(DisposalRunRow.id == run_id)
                .values(status="complete", finished_at=finished, certificate=certificate, salt=salt, ledger_index=index)
            )
            self._audit.record(
                session,
                NewAuditEvent(
                    actor=actor,
                    role=role,
                    action="retention.run",
                    record_type="retention_run",
                    record_id=str(run_id),
                    party=None,
                    source=source,
                    details={"declarations": len(mrns), "ledger_index": index},
                ),
            )
        return {**certificate, "ledger_index": index}
