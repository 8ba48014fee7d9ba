"""The declarations' ledger format, and their answer to `ledger verify`.

Writing (format 2, every entry since issue 13): each record, a version or an officer's transition,
enters as kind `declaration.event` with an opaque record id (`RecordIds`: keyed, one per entry), so
the public log shows neither MRNs nor how many entries a declaration has nor which ones went to
control. The private kind and label (MRN/version) are inside the salted commitment, and so is the
risk decision taken on a version. Entries written before (kinds `declaration.version` and
`declaration.transition`, the MRN as record id, no risk decision) stay as they are, since the log is
append-only, and verify as they were written: the format is read from each entry's kind.

Verifying: recompute each committed record from its rows (opening the protected values and the
sealed salt; a record whose party key was shredded is erased, which is what crypto-shredding means,
not tampering), then check that the current state follows from the committed history: a
declaration's status, channel and office, its versions, and its recorded risk assessments.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.crypto.fields import Erased, FieldRef
from clearguard.declarations import documents
from clearguard.declarations.categorised import seal_plan
from clearguard.declarations.ports import FieldVault
from clearguard.declarations.record_format import (
    TRANSITION_KIND,
    VERSION_KIND,
    VERSION_TABLE,
    risk_decision,
    transition_canonical,
    transition_salt_ref,
    version_canonical,
)
from clearguard.declarations.tables import DeclarationEventRow, DeclarationRow, DeclarationVersionRow
from clearguard.errors import ClearGuardError
from clearguard.ledger.commitment import LedgerEntry, RecordIds, commitment, encode_entry
from clearguard.ledger.verification import Disposed

EVENT_KIND = "declaration.event"  # the one public kind of every declaration entry written now
# Never equal to a SHA-256 commitment: what a row that fails to decrypt recomputes to.
UNREADABLE = b"unreadable"
EVENT_KEYS = ("version", "from_status", "to_status", "actor", "role", "reason", "at")
# The channel a committed transition gave: lodging's last step and an amendment's re-assessment.
_CHANNEL = re.compile(r"channel (\w+)$")
_RUN = "clearguard.declarations.verify"  # what one verification run learns, in its session's info


class RiskDecisions(Protocol):
    def assessments_of(self, session: Session, references: Sequence[str]) -> Mapping[str, Sequence[dict[str, Any]]]:
        """Every recorded assessment of each reference (an MRN), as the risk engine's JSON."""
        ...


def sealed_record(kind: str, label: str, canonical: bytes) -> bytes:
    """What a format-2 commitment covers: the private kind and label, then the record's bytes."""
    return kind.encode() + b"\n" + label.encode() + b"\n" + canonical


class DeclarationEntries:
    """The entry encoder DeclarationService writes with: (private kind, label, canonical bytes,
    salt) -> a `declaration.event` entry with an opaque record id."""

    def __init__(self, record_ids: RecordIds) -> None:
        self._ids = record_ids

    def record_id(self, kind: str, label: str, salt: bytes) -> str:
        return self._ids.opaque(kind, label, salt)

    def commit(self, kind: str, label: str, canonical: bytes, salt: bytes) -> tuple[str, bytes]:
        record_id = self.record_id(kind, label, salt)
        return record_id, commitment(EVENT_KIND, record_id, sealed_record(kind, label, canonical), salt)

    def __call__(self, kind: str, label: str, canonical: bytes, salt: bytes) -> bytes:
        return encode_entry(EVENT_KIND, *self.commit(kind, label, canonical, salt))


def _event(row: DeclarationEventRow) -> dict[str, Any]:
    return {key: getattr(row, key) for key in EVENT_KEYS}


def _labels_match(declaration_type: str, protected: dict[str, Any]) -> bool:
    """The category a sealed group is stored under decides which roles may open it, and it lies
    outside the ciphertext: each group must carry the category the seal plan gives its name (a group
    relabelled, say, personal -> trade, or one the plan does not know, is tampering). Values sealed
    one by one ('/pointer' names, before groups existed) have no plan entry and are left as stored."""
    plan = {group.name: group.category.value for group in seal_plan(declaration_type).groups}
    return all(name.startswith("/") or plan.get(name) == entry[0] for name, entry in protected.items())


def _decision_key(decision: Mapping[str, Any]) -> bytes:
    return documents.canonical_json(dict(decision))


@dataclass
class _Run:
    """Facts recompute gathers for the state checks of the same run (kept in the session's info,
    so concurrent runs never share them)."""

    current: set[str] = field(default_factory=set)  # MRNs with a version in the current format
    legacy: set[str] = field(default_factory=set)  # MRNs with a version written before it
    erased: set[str] = field(default_factory=set)  # MRNs with a shredded version: decisions unprovable
    undecided: set[str] = field(default_factory=set)  # MRNs with a version lodged with no risk engine
    committed: set[tuple[str, bytes]] = field(default_factory=set)  # (MRN, decision) a version commits to


class DeclarationCommitments:
    kind = "declaration."

    def __init__(
        self, vault: FieldVault, entries: DeclarationEntries, *, erased: object, risk: RiskDecisions | None = None
    ) -> None:
        self._vault = vault
        self._entries = entries
        self._erased = erased  # the ledger's own "erased" marker
        self._risk = risk

    @staticmethod
    def _run(session: Session) -> _Run:
        run = session.info.get(_RUN)
        if not isinstance(run, _Run):
            run = session.info[_RUN] = _Run()
        return run

    def recompute(self, session: Session, entries: Sequence[tuple[int, LedgerEntry]]) -> dict[int, Any]:
        """Each entry's commitment recomputed from its row; Disposed for a disposed declaration's."""
        by_index = dict(entries)
        found: dict[int, Any] = {}
        run = self._run(session)
        versions = []
        for version, mrn, declaration_type, disposal_run in session.execute(
            select(DeclarationVersionRow, DeclarationRow.mrn, DeclarationRow.type, DeclarationRow.disposal_run)
            .join(DeclarationRow, DeclarationRow.id == DeclarationVersionRow.declaration_id)
            .where(DeclarationVersionRow.ledger_index.in_(list(by_index)))
        ).all():
            if disposal_run is not None:
                # Disposed of by a retention run: retention's own source checks that the run's
                # committed certificate names this declaration.
                found[version.ledger_index] = Disposed(int(disposal_run))
            else:
                versions.append((version, mrn, declaration_type))
        assessments: Mapping[str, Sequence[dict[str, Any]]] = {}
        if self._risk is not None and versions:
            assessments = self._risk.assessments_of(session, sorted({mrn for _v, mrn, _t in versions}))
        for version, mrn, declaration_type in versions:
            assert version.ledger_index is not None
            entry = by_index[version.ledger_index]
            try:
                found[version.ledger_index] = self._version(
                    session, version, mrn, declaration_type, entry, assessments.get(mrn, ()), run
                )
            except ClearGuardError:
                # A ciphertext that no longer authenticates (edited, or moved from another record)
                # is tampering with this entry's row: report it there, never abort the whole check.
                found[version.ledger_index] = UNREADABLE
        events = session.execute(
            select(DeclarationEventRow, DeclarationRow.mrn, DeclarationRow.disposal_run)
            .join(DeclarationRow, DeclarationRow.id == DeclarationEventRow.declaration_id)
            .where(DeclarationEventRow.ledger_index.in_(list(by_index)), DeclarationEventRow.salt.is_not(None))
        ).all()
        for event, mrn, disposal_run in events:
            assert event.ledger_index is not None
            if disposal_run is not None:
                found[event.ledger_index] = Disposed(int(disposal_run))
                continue
            try:
                found[event.ledger_index] = self._transition(session, event, mrn, by_index[event.ledger_index])
            except ClearGuardError:
                found[event.ledger_index] = UNREADABLE
        return found

    def _transition(self, session: Session, event: DeclarationEventRow, mrn: str, entry: LedgerEntry) -> Any:
        assert event.ledger_index is not None and event.salt is not None and event.salt_key_id is not None
        ref = transition_salt_ref(mrn, event.version, event.ledger_index)
        salt_hex = self._vault.open(session, event.salt_key_id, ref, event.salt)
        if isinstance(salt_hex, Erased):
            return self._erased
        salt = bytes.fromhex(salt_hex)
        canonical = transition_canonical(mrn, _event(event))
        if entry.kind != EVENT_KIND:  # written before format 2: the MRN is the record id
            return commitment(TRANSITION_KIND, mrn, canonical, salt)
        record_id, value = self._entries.commit(TRANSITION_KIND, mrn, canonical, salt)
        return value if record_id == entry.record_id else UNREADABLE

    def _version(
        self,
        session: Session,
        row: DeclarationVersionRow,
        mrn: str,
        declaration_type: str,
        entry: LedgerEntry,
        assessments: Sequence[dict[str, Any]],
        run: _Run,
    ) -> Any:
        if not _labels_match(declaration_type, row.protected):
            return UNREADABLE
        salt_hex = self._vault.open(
            session, row.salt_key_id, FieldRef(VERSION_TABLE, mrn, "salt", row.version), row.salt
        )
        if isinstance(salt_hex, Erased):
            run.erased.add(mrn)
            return self._erased
        salt = bytes.fromhex(salt_hex)
        erased = False

        def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
            nonlocal erased
            plains = self._vault.open_many(
                session,
                [
                    (int(entry[1]), FieldRef(VERSION_TABLE, mrn, name, row.version), base64.b64decode(entry[2]))
                    for name, entry in entries
                ],
            )
            erased = any(isinstance(plain, Erased) for plain in plains)
            return [{} if isinstance(plain, Erased) else json.loads(plain) for plain in plains]

        doc = documents.join(declaration_type, row.clear_doc, row.protected, lambda _p, _c: True, open_values)
        if erased:
            run.erased.add(mrn)
            return self._erased
        lodge_events: list[dict[str, Any]] = []
        if row.version == 1:
            lodge_events = [
                _event(e)
                for e in session.execute(
                    select(DeclarationEventRow)
                    .where(
                        DeclarationEventRow.declaration_id == row.declaration_id,
                        DeclarationEventRow.ledger_index == row.ledger_index,
                    )
                    .order_by(DeclarationEventRow.id)
                ).scalars()
            ]
        document = documents.canonical_json(doc)
        label = f"{mrn}/{row.version}"
        if entry.kind != EVENT_KIND:  # written before format 2: no risk decision, the label in clear
            run.legacy.add(mrn)
            return commitment(VERSION_KIND, label, version_canonical(document, lodge_events), salt)
        run.current.add(mrn)
        record_id = self._entries.record_id(VERSION_KIND, label, salt)
        if record_id != entry.record_id:
            return UNREADABLE
        # The decision is one of the MRN's recorded assessments (or none, without a risk engine):
        # the one whose commitment matches is committed; a deleted or edited one matches nothing.
        value = UNREADABLE
        for decision in [None, *(risk_decision(a) for a in assessments)]:
            canonical = version_canonical(document, lodge_events, decision)
            value = self._entries.commit(VERSION_KIND, label, canonical, salt)[1]
            if value == entry.commitment:
                if decision is None:
                    run.undecided.add(mrn)
                else:
                    run.committed.add((mrn, _decision_key(decision)))
                break
        return value

    def ledger_indices(self, session: Session) -> list[tuple[int | None, str, str | None]]:
        """Every version and every transition, with no record id to compare (recompute checks it,
        opaque or not). A transition of lodging has no entry of its own: it must claim its
        declaration's first version's entry (which commits to it), or no entry covers it."""
        indices: list[tuple[int | None, str, str | None]] = []
        first_entry: dict[int, int | None] = {}
        for declaration_id, index, mrn, version in session.execute(
            select(
                DeclarationVersionRow.declaration_id,
                DeclarationVersionRow.ledger_index,
                DeclarationRow.mrn,
                DeclarationVersionRow.version,
            ).join(DeclarationRow, DeclarationRow.id == DeclarationVersionRow.declaration_id)
        ):
            indices.append((None if index is None else int(index), f"{mrn}/{version}", None))
            if version == 1:
                first_entry[declaration_id] = index
        for declaration_id, index, mrn, own in session.execute(
            select(
                DeclarationEventRow.declaration_id,
                DeclarationEventRow.ledger_index,
                DeclarationRow.mrn,
                DeclarationEventRow.salt.is_not(None),
            ).join(DeclarationRow, DeclarationRow.id == DeclarationEventRow.declaration_id)
        ):
            if own:
                indices.append((None if index is None else int(index), f"{mrn} transition", None))
            elif index is None or first_entry.get(declaration_id) != index:
                indices.append((None, f"{mrn} (a transition no entry covers)", None))
        return indices

    def consistency(self, session: Session) -> list[tuple[int | None, str]]:
        """Each declaration's current status, channel and office against its committed history, its
        versions against its current version, and its recorded risk assessments against the
        decisions its versions commit to. Each problem names the declaration and its last entry."""
        run = session.info.pop(_RUN, None)
        run = run if isinstance(run, _Run) else _Run()
        problems: list[tuple[int | None, str]] = []
        versions: dict[int, list[tuple[int, int | None]]] = {}
        for declaration_id, number, index in session.execute(
            select(
                DeclarationVersionRow.declaration_id, DeclarationVersionRow.version, DeclarationVersionRow.ledger_index
            )
        ):
            versions.setdefault(declaration_id, []).append((number, index))
        offices: dict[int, Any] = {
            declaration_id: clear
            for declaration_id, clear in session.execute(
                select(DeclarationVersionRow.declaration_id, DeclarationVersionRow.clear_doc).join(
                    DeclarationRow,
                    (DeclarationRow.id == DeclarationVersionRow.declaration_id)
                    & (DeclarationRow.current_version == DeclarationVersionRow.version),
                )
            )
        }
        history: dict[int, list[tuple[int, int, str, str | None]]] = {}
        for declaration_id, row_id, index, to_status, reason in session.execute(
            select(
                DeclarationEventRow.declaration_id,
                DeclarationEventRow.id,
                DeclarationEventRow.ledger_index,
                DeclarationEventRow.to_status,
                DeclarationEventRow.reason,
            ).where(DeclarationEventRow.ledger_index.is_not(None))
        ):
            history.setdefault(declaration_id, []).append((int(index), row_id, to_status, reason))
        declarations = session.execute(
            select(
                DeclarationRow.id,
                DeclarationRow.mrn,
                DeclarationRow.status,
                DeclarationRow.channel,
                DeclarationRow.office,
                DeclarationRow.current_version,
            ).where(DeclarationRow.disposal_run.is_(None))
        ).all()
        # A disposed declaration keeps no state to compare: retention's source checks that the run
        # named on it disposed of it, by its committed certificate.
        assessments: Mapping[str, Sequence[dict[str, Any]]] = {}
        if self._risk is not None and declarations:
            assessments = self._risk.assessments_of(session, [d.mrn for d in declarations])
        for d in declarations:
            own = versions.get(d.id, [])
            events = sorted(history.get(d.id, []))
            indices = [i for _n, i in own if i is not None] + [e[0] for e in events]
            if not own or not indices:
                problems.append((None, f"{d.mrn}: a declaration with no committed version"))
                continue
            last = max(indices)

            def wrong(what: str, mrn: str = d.mrn, at: int = last) -> None:
                # Named by the declaration and its last committed entry, not at that entry: the
                # entry itself is intact (an edited or missing record is named where it diverges).
                problems.append((None, f"{mrn} (last committed entry {at}): {what}"))

            if d.current_version != max(n for n, _i in own):
                wrong(f"current version {d.current_version}, its last committed version {max(n for n, _i in own)}")
            if not events:
                wrong("no committed transition")
                continue
            if d.status != events[-1][2]:
                wrong(f"status {d.status}, its last committed transition says {events[-1][2]}")
            channels = [m.group(1) for *_e, reason in events if reason and (m := _CHANNEL.search(reason))]
            if channels and d.channel != channels[-1]:
                wrong(f"channel {d.channel}, its committed history says {channels[-1]}")
            clear = offices.get(d.id)
            office = clear.get("office_of_presentation") if isinstance(clear, dict) else None
            if office != d.office:
                wrong(f"office {d.office}, its committed version says {office}")
            if self._risk is not None:
                problems.extend(self._check_risk(d.mrn, last, assessments.get(d.mrn, ()), channels, run))
        return problems

    @staticmethod
    def _check_risk(
        mrn: str, last: int, assessments: Sequence[dict[str, Any]], channels: list[str], run: _Run
    ) -> list[tuple[int | None, str]]:
        where = f"{mrn} (last committed entry {last})"
        if mrn in run.erased:
            return []  # a shredded version's decision cannot be recomputed, by design
        forged: list[tuple[int | None, str]] = [
            (None, f"{where}: the scored records of the risk assessment of {a.get('assessed_at')} fail authentication")
            for a in assessments
            if a.get("sealed_items_intact") is False
        ]
        if forged:
            return forged
        if not assessments:
            if mrn in run.undecided and mrn not in run.legacy:
                return []  # committed as lodged without a risk engine: there is nothing to find
            return [(None, f"{where}: its risk assessment is missing")]
        if mrn in run.legacy or mrn not in run.current:
            # Versions written before decisions were committed: the lodging channel is, so some
            # recorded assessment must have taken it.
            if channels and all(a.get("channel") != channels[0] for a in assessments):
                return [(None, f"{where}: no recorded risk assessment gave its committed channel {channels[0]}")]
            return []
        out: list[tuple[int | None, str]] = []
        for assessment in assessments:
            decision = risk_decision(assessment)
            if decision is None or (mrn, _decision_key(decision)) not in run.committed:
                out.append((None, f"{where}: risk assessment of {assessment.get('assessed_at')} is not committed"))
        return out
