"""DetectionService, the only way into detection's stored side: it records every audited action as
an activity event in the audit event's own transaction (it is the audit trail's observer), feeds
the Detector once that transaction has committed, stores the findings as alerts and notices (one
row per incident), takes the responses the policy calls for, and serves triage and the listings.

The Detector's state lives in this process; it is rebuilt from the recent activity store the first
time it is needed (`detection_warm_hours`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.principal import Principal
from clearguard.audit import NewAuditEvent
from clearguard.audit.service import AuditEvent, AuditService
from clearguard.db import transaction, utcnow
from clearguard.detection import alerts, store
from clearguard.detection.activity import ACTIONS, OUTCOMES, Activity
from clearguard.detection.alerts import OpenAlerts
from clearguard.detection.context import current_origin
from clearguard.detection.engine import Detector, Finding
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.events import ActivityEvent
from clearguard.detection.responses import ResponsePolicy
from clearguard.errors import ClearGuardError, Forbidden, NotFound

log = logging.getLogger("clearguard.detection")

_PENDING = "clearguard_detection_pending"
_HOOKED = "clearguard_detection_hooked"
_OFFICE_TTL_S = 300.0
_WARM_LIMIT = 500_000
_BASELINE_LIMIT = 2_000_000
_SLACK = timedelta(minutes=1)
LIST_LIMIT = 1000


class Accounts(Protocol):
    """What detection needs of identity: an account's office, and the responses."""

    def account_principal(self, username: str) -> Principal: ...
    def account_exists(self, session: Session, username: str) -> bool: ...
    def revoke_sessions(self, username: str, *, by: str, reason: str) -> int: ...
    def require_step_up(self, username: str, *, by: str, reason: str) -> int: ...
    def lock(self, username: str, *, seconds: int, by: str, reason: str) -> int: ...


# (suppressed?, the baseline of stored activity the anomaly model is fitted on) -> Detector
DetectorFactory = Callable[[Callable[[Finding], bool], Sequence[ActivityEvent]], Detector]


class DetectionService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        indexer: store.BlindIndexer,
        audit: AuditService,
        accounts: Accounts | None,
        detector: DetectorFactory,
        policy: ResponsePolicy,
        warm_hours: int = 24,
        baseline_days: int = 14,
        clock: Callable[[], datetime] = utcnow,
        read_factory: sessionmaker[Session] | None = None,
    ) -> None:
        self._factory = factory
        self._read = read_factory or factory
        self._indexer = indexer
        self._audit = audit
        self._accounts = accounts
        self._policy = policy
        self._warm_hours = warm_hours
        self._baseline_days = baseline_days
        self._clock = clock
        self._lock = threading.RLock()
        self._suppressions: list[alerts.Suppression] = []
        self._make_detector = detector
        self._built: Detector | None = None
        self._warmed = False
        # Incidents raised by this process: (last_at, findings) as stored, to extend their rows.
        self._live: dict[str, tuple[datetime, int]] = {}
        self._offices: dict[str, tuple[float, str | None]] = {}

    @property
    def accounts(self) -> Accounts | None:
        return self._accounts

    @accounts.setter
    def accounts(self, accounts: Accounts | None) -> None:
        self._accounts = accounts

    # ------------------------------------------------------------------ recording (audit's observer)
    def observe(self, session: Session, events: Sequence[AuditEvent]) -> None:
        """Writes the activity events of `events` in their transaction; the Detector sees them once
        it has committed (a rolled-back action is no activity)."""
        origin = current_origin()
        activities = [
            self._keyed_stranger(a, known=lambda name: self._exists(session, name))
            for a in (store.from_audit(e, self._indexer, office_of=self._office_of, origin=origin) for e in events)
            if a is not None
        ]
        if not activities:
            return
        store.insert(session, activities)
        pending: list[Activity] = session.info.setdefault(_PENDING, [])
        pending.extend(activities)
        if not session.info.get(_HOOKED):
            session.info[_HOOKED] = True
            event.listen(session, "after_commit", self._after_commit)
            event.listen(session, "after_rollback", _forget)

    def _after_commit(self, session: Session) -> None:
        pending: list[Activity] = session.info.pop(_PENDING, [])
        if pending:
            try:
                self.feed(pending)
            except Exception:  # the action has committed: its caller must not see detection fail
                log.exception("detection failed on %d committed activity events", len(pending))

    def record_edge(self, activity: Activity, record: tuple[str, str] | None = None) -> None:
        """An activity the API edge saw and no service did (a blocked or denied request); `record`
        (type, id) is stored as its keyed reference."""
        if activity.action not in ACTIONS or activity.outcome not in OUTCOMES:
            raise DetectionInputError(f"action: {activity.action!r} is not an activity", field="action")
        if record is not None:
            activity = replace(activity, record=store.record_reference(self._indexer, record[0], record[1][:64]))
        if activity.office is None and activity.role not in ("anonymous", "security"):
            activity = replace(activity, office=self._office_of(activity.actor))
        activity = self._keyed_stranger(activity, known=self._is_account)
        with transaction(self._factory) as session:
            store.insert(session, [activity])
        self.feed([activity])

    def _keyed_stranger(self, activity: Activity, *, known: Callable[[str], bool]) -> Activity:
        """A name tried at login that is no account is whatever was typed, often a password in
        the wrong field: kept as its keyed reference (the rules need only equality), never in clear.
        `known`: whether the name is an account (in the audited transaction, or on its own)."""
        if activity.role != "anonymous" or activity.actor in ("anonymous", "") or activity.actor.startswith("unknown:"):
            return activity
        if known(activity.actor):
            return activity
        return replace(activity, actor="unknown:" + self._indexer.blind_index("activity_actor", activity.actor)[:32])

    def _exists(self, session: Session, name: str) -> bool:
        return self._accounts is not None and self._accounts.account_exists(session, name)

    def _is_account(self, name: str) -> bool:
        if self._accounts is None:
            return False
        try:
            self._accounts.account_principal(name)
        except NotFound:
            return False
        except ClearGuardError:  # a disabled account: a staff name, not a stranger's typing
            return True
        return True

    def _office_of(self, username: str) -> str | None:
        now = time.monotonic()
        cached = self._offices.get(username)
        if cached is not None and now - cached[0] < _OFFICE_TTL_S:
            return cached[1]
        office: str | None = None
        if self._accounts is not None:
            try:
                office = self._accounts.account_principal(username).office
            except ClearGuardError:
                office = None
        if len(self._offices) > 10_000:
            self._offices.clear()
        self._offices[username] = (now, office)
        return office

    # ------------------------------------------------------------------ detecting
    @property
    def _detector(self) -> Detector:
        """Built when first needed: a command that records no activity compiles no rules."""
        if self._built is None:
            self._built = self._make_detector(self._suppressed, self._baseline())
        return self._built

    def _baseline(self) -> list[ActivityEvent]:
        """The stored activity of the baseline days before the warm window: what the anomaly model
        learns each actor's and each role's ordinary days from (when the process starts)."""
        if self._baseline_days <= 0:
            return []
        until = self._clock() - timedelta(hours=self._warm_hours)
        since = until - timedelta(days=self._baseline_days)
        with self._read() as session:
            return [
                store.to_event(a) for a in store.replay(session, since, limit=_BASELINE_LIMIT) if a.at < until
            ]

    def _suppressed(self, finding: Finding) -> bool:
        return any(s.matches(finding) for s in self._suppressions)

    def _warm(self, exclude: set[str]) -> None:
        """Rebuilds the Detector's windows from the recent store (findings already stored)."""
        if self._warmed:
            return
        self._warmed = True
        with self._read() as session:
            self._suppressions = alerts.suppressions(session)
            if self._warm_hours <= 0:
                return
            since = self._clock() - timedelta(hours=self._warm_hours)
            for activity in store.replay(session, since, limit=_WARM_LIMIT):
                if activity.audit_event is None or activity.audit_event not in exclude:
                    self._detector.observe(store.to_event(activity))

    def feed(self, activities: Sequence[Activity]) -> list[Finding]:
        """Runs committed activity through the Detector; stores what it raises; responds."""
        with self._lock:
            self._warm({a.audit_event for a in activities if a.audit_event})
            findings: list[Finding] = []
            for activity in activities:
                findings.extend(self._detector.observe(store.to_event(activity)))
            extended = self._extended()
        if not findings and not extended:
            return findings
        respond: list[tuple[int, tuple[str, ...], list[str], list[str], datetime, datetime, str]] = []
        with transaction(self._factory) as session:
            for finding in findings:
                row = alerts.store_finding(session, finding)
                self._live[finding.incident] = (row.last_at, row.findings)
                actions = self._policy.on_raise(row.level, row.severity)
                if actions:
                    respond.append(
                        (row.id, actions, list(row.actors), list(row.sources), row.first_at, row.last_at, row.rule)
                    )
            for incident, (last_at, count) in extended.items():
                alerts.extend(session, incident, last_at, count)
        for alert_id, actions, actors, sources, first_at, last_at, rule in respond:
            self._respond(alert_id, actions, actors, sources, first_at, last_at, f"alert {alert_id} ({rule})")
        return findings

    def _extended(self) -> dict[str, tuple[datetime, int]]:
        changed: dict[str, tuple[datetime, int]] = {}
        for incident_id, stored in list(self._live.items()):
            incident = self._detector.incident(incident_id)
            if incident is None:
                del self._live[incident_id]
            elif (incident.last_at, incident.findings) != stored:
                changed[incident_id] = self._live[incident_id] = (incident.last_at, incident.findings)
        return changed

    # ------------------------------------------------------------------ responses
    def _respond(
        self,
        alert_id: int,
        actions: Sequence[str],
        actors: Sequence[str],
        sources: Sequence[str],
        first_at: datetime,
        last_at: datetime,
        reason: str,
        by: str = "detection",
    ) -> list[dict[str, Any]]:
        taken: list[dict[str, Any]] = []
        at = self._clock().isoformat()
        for actor in actors:
            with self._read() as session:
                active = store.succeeded(session, actor, first_at - _SLACK, last_at + _SLACK, sources)
            for action in actions:
                entry: dict[str, Any] = {"at": at, "action": action, "actor": actor, "by": by, "taken": False}
                if not active:
                    entry["why"] = "no success of the actor from the alert's sources (failures alone never respond)"
                elif self._accounts is None:
                    entry["why"] = "no identity service"
                else:
                    try:
                        entry["affected"] = self._apply(action, actor, by, reason)
                        entry["taken"] = True
                    except NotFound:
                        entry["why"] = "no such account"
                taken.append(entry)
        with transaction(self._factory) as session:
            alerts.add_response(session, alert_id, taken)
        return taken

    def _apply(self, action: str, actor: str, by: str, reason: str) -> int:
        accounts = self._accounts
        assert accounts is not None
        if action == "require_step_up":
            return accounts.require_step_up(actor, by=by, reason=reason)
        if action == "revoke_sessions":
            return accounts.revoke_sessions(actor, by=by, reason=reason)
        return accounts.lock(actor, seconds=self._policy.lock_seconds, by=by, reason=reason)

    # ------------------------------------------------------------------ triage and listings
    def alerts(
        self, *, status: str | None = None, level: str | None = "alert", limit: int = 200
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= LIST_LIMIT:
            raise DetectionInputError(f"limit: between 1 and {LIST_LIMIT}", field="limit")
        with self._read() as session:
            return [alerts.alert_dict(r) for r in alerts.listing(session, status=status, level=level, limit=limit)]

    def triage(
        self, alert_id: int, verdict: str, note: str, *, by: str, role: str, source: str | None = None
    ) -> dict[str, Any]:
        """Acknowledge, confirm or mark a false positive, with a note (audited, so in the ledger). A
        false positive suppresses the same pattern; a confirmation takes the confirmed responses."""
        status, note = alerts.check_verdict(verdict, note)
        now = self._clock()
        with transaction(self._factory) as session:
            row = alerts.get(session, alert_id)
            if by.lower() in {a.lower() for a in row.actors}:
                # Separation of duties: no one clears (or confirms) an alert about themselves.
                raise Forbidden(f"alert {alert_id}: names you as an actor; another member of staff triages it")
            added = alerts.triage(session, row, status, note, by=by, at=now)
            self._audit.record(
                session,
                NewAuditEvent(
                    actor=by, role=role, action="detection.triage", record_type="detection_alert",
                    record_id=str(row.id), party=None, source=source, justification=note, details={"verdict": status},
                ),
            )  # fmt: skip
            done = [r["action"] for r in row.responses if r.get("taken")]
            actions = self._policy.on_verdict(row.level, status, done)
            actors, sources, first_at, last_at = list(row.actors), list(row.sources), row.first_at, row.last_at
        with self._lock:
            self._suppressions.extend(added)
        if actions:
            self._respond(alert_id, actions, actors, sources, first_at, last_at, f"alert {alert_id} confirmed", by)
        with self._read() as session:
            return alerts.alert_dict(alerts.get(session, alert_id))

    def open_alerts(self) -> OpenAlerts:
        """How many alerts wait for triage, and since when the oldest serious one (the self-audit)."""
        with self._read() as session:
            return alerts.open_alerts(session)

    def raise_posture_fail(self, check: str, reason: str, asvs: str, *, at: datetime) -> int:
        """An alert of kind `posture.fail` for a self-audit check that newly fails (the caller decides
        what is new); its incident is the check and the report's time, so one report raises it once
        however often it is handed in. The alert's id."""
        finding = Finding(
            rule=alerts.POSTURE_RULE,
            kind=alerts.POSTURE_RULE,
            level="alert",
            severity="high",
            actors=(),
            sources=(),
            first_at=at,
            at=at,
            incident=f"{alerts.POSTURE_RULE}:{check}:{at.isoformat()}",
            explanation=f"security self-audit: {check} ({asvs}) fails: {reason}"[:2000],
        )
        with transaction(self._factory) as session:
            return alerts.store_finding(session, finding).id

    def activity(self, *, actor: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        if not 1 <= limit <= LIST_LIMIT:
            raise DetectionInputError(f"limit: between 1 and {LIST_LIMIT}", field="limit")
        with self._read() as session:
            rows = store.query(session, actor=actor, limit=limit)
        return [{**asdict(a), "at": a.at.isoformat()} for a in rows]


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
