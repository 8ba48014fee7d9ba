"""Wiring: builds each capability's service from Settings, once per process.

This is the only place that knows how the capabilities fit together; everything else receives the
services it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clearguard import db
from clearguard.audit.service import AuditCommitmentSource, AuditService
from clearguard.audit.witness_events import AuditWitnessEvents
from clearguard.compliance.service import ComplianceService
from clearguard.config import Settings
from clearguard.crypto.errors import KeyUnavailable
from clearguard.crypto.service import CryptoService
from clearguard.crypto.setup import build_crypto_service, build_secret_box
from clearguard.declarations.commitments import DeclarationCommitments, DeclarationEntries
from clearguard.declarations.drafts import DraftErasure, DraftRecords, DraftService
from clearguard.declarations.erasure import PartyErasure, trader_index_of, trader_ref_from_index
from clearguard.declarations.ports import FieldVault, RiskAssessor
from clearguard.declarations.service import DeclarationService, normalise_eori
from clearguard.detection.disposal import ActivityRecords
from clearguard.detection.erasure import ActivityErasure
from clearguard.detection.online import build_detector, response_policy
from clearguard.detection.service import DetectionService
from clearguard.identity import Clock, IdentityService
from clearguard.ledger.alerts import WitnessAlertCommitments, WitnessEvents
from clearguard.ledger.continuity import LogContinuity
from clearguard.ledger.service import LedgerService
from clearguard.ledger.verification import ERASED as LEDGER_ERASED
from clearguard.ledger.witness_service import WitnessService
from clearguard.posture import DependencyAudit, PostureService, Sources
from clearguard.privacy.ports import RetentionView
from clearguard.privacy.service import PrivacyService
from clearguard.retention import RetentionCommitments, RetentionService, Schedule, load_policies
from clearguard.risk.erasure import RiskErasure
from clearguard.risk.service import RiskService
from clearguard.sharing.commitments import SharingCommitments
from clearguard.sharing.disposal import ReceivedPackages
from clearguard.sharing.keys import load_sharing_keys
from clearguard.sharing.service import SharingService
from clearguard.training import TrainingService
from clearguard.travellers import TravellerErasure, TravellerService


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    compliance: ComplianceService
    vault: FieldVault
    ledger: LedgerService
    audit: AuditService
    risk: RiskService
    declarations: DeclarationService
    identity: IdentityService
    travellers: TravellerService
    # What erases a shredded party from the declarations' indexes (registered on the key service as a
    # ShredListener), and the key service behind `vault` (None when a test or benchmark passes another
    # FieldVault).
    erasure: PartyErasure
    retention: RetentionService
    # Field inventory, subject access, data subject requests, records of processing.
    privacy: PrivacyService
    crypto: CryptoService | None = None
    # Witnessing both ways and mirroring partners' logs, with our ledger and the audit trail (issue 15).
    witness: WitnessService | None = None
    # Exchange with partner administrations (issue 15); None where a test wires services without it.
    sharing: SharingService | None = None
    # Activity store, alerts, triage and responses (the audit trail's observer).
    detection: DetectionService | None = None
    # Staff training records and the gate on privileged roles (issue 18); None only where a test
    # wires services by hand.
    training: TrainingService | None = None
    # The security self-audit over all of the above (`audit security`, the server's daily run).
    posture: PostureService | None = None
    # Declaration drafts of traders and brokers (issue 17), sealed whole; None where a test wires by hand.
    drafts: DraftService | None = None

    def close(self) -> None:
        self.vault.close()
        self.engine.dispose()

    def key_service(self) -> CryptoService:
        """The envelope-encryption service, for the commands that manage keys (status, rotate, shred,
        restore's reconciliation); KeyUnavailable where a test or benchmark wired another vault."""
        if self.crypto is None:
            raise KeyUnavailable("no envelope-encryption service is configured")
        return self.crypto

    def gate_operator(self, name: str, permission: str) -> None:
        """The training gate for a CLI command acting as a named operator (CLEARGUARD_OPERATOR,
        `--officer`): a privileged account without current training is refused (TrainingRequired);
        a name that is no account is the server's own operator at the console, not gated."""
        if self.training is not None:
            self.training.gate_operator(name, permission)

    def log_continuity(self) -> LogContinuity:
        """What `backup restore` needs so that the log never signs a size twice across a restore."""
        return LogContinuity(self.ledger, self.session_factory)


def build_ledger(settings: Settings) -> LedgerService:
    """The ledger with its signing key, without commitment sources: enough to print its key or check
    a receipt. build_services registers the sources on top."""
    return LedgerService.from_settings(settings)


def build_witness(
    settings: Settings, *, ledger: LedgerService | None = None, events: WitnessEvents | None = None
) -> WitnessService:
    """This instance's witness (cosigning other logs), with its key; with our ledger and the audit
    trail it also alerts on forks, submits our checkpoints and mirrors partners' logs."""
    return WitnessService.from_settings(settings, ledger=ledger, events=events)


def build_services(
    settings: Settings, *, engine: Engine | None = None, vault: FieldVault | None = None, clock: Clock | None = None
) -> Services:
    """Every service, wired. The vault is the envelope-encryption service from the key provider in
    the settings (its keys must exist: `clearguard init`); tests and the benchmark may pass another."""
    engine = engine or db.make_engine(settings.database_url, echo=settings.database_echo)
    session_factory = db.make_session_factory(engine)
    read_factory = db.make_session_factory(engine, read_only=True)
    compliance = ComplianceService.from_settings(settings)
    vault = vault or build_crypto_service(settings)
    crypto = vault if isinstance(vault, CryptoService) else None
    erasure = PartyErasure(vault)
    ledger = build_ledger(settings)
    audit = AuditService(ledger)
    ledger.add_source(AuditCommitmentSource())
    ledger.add_source(WitnessAlertCommitments())
    risk = RiskService(
        settings,
        party_index=lambda eori: vault.blind_index("eori", normalise_eori(eori)),
        vault=crypto,  # the scored records (item prices) sealed under the declarant's key
        item_owner=trader_ref_from_index,
    )
    schedule = Schedule(load_policies(settings.retention_policy_file))
    entries = DeclarationEntries(ledger.record_ids)
    ledger.add_source(DeclarationCommitments(vault, entries, erased=LEDGER_ERASED, risk=risk))
    declarations = DeclarationService(
        session_factory,
        compliance=compliance,
        vault=vault,
        ledger=ledger,
        audit=audit,
        risk=risk,
        entry_encoder=entries,
        receipts=lambda index: ledger.receipt_now(session_factory, index).to_json(),
        read_factory=read_factory,
        retention=schedule,
    )
    # Sealed per traveller; disposal shreds through the key service (refused without one).
    travellers = TravellerService(session_factory, vault, audit, shredder=crypto)
    retention = RetentionService(
        session_factory,
        schedule=schedule,
        declarations=declarations,
        risk=risk,
        keys=crypto,
        ledger=ledger,
        audit=audit,
        resolve_party=erasure.trader_reference,
        resolve_person=erasure.person_reference,
        register=settings.var_dir / "retention" / "certificates",
        purge=lambda: db.purge_freed(engine),
        batch=settings.retention_batch_size,
        travellers=travellers,
    )
    ledger.add_source(RetentionCommitments(declarations, audit))
    if crypto is not None:
        # The hold guard first: it must see the party's rows before the erasure listeners clear them.
        crypto.add_shred_listener(retention)
        crypto.add_shred_listener(erasure)
        crypto.add_shred_listener(RiskErasure(trader_index_of))
        crypto.add_shred_listener(TravellerErasure())
        crypto.add_shred_listener(ActivityErasure())
        crypto.add_shred_listener(DraftErasure())
    secret_box = build_secret_box(settings)  # TOTP seeds and drafts without a declarant, purposes apart
    identity = IdentityService(
        session_factory,
        settings,
        secret_box=secret_box,
        events=audit,
        read_factory=read_factory,
        clock=clock,  # tests pass a frozen clock (TOTP steps, throttle waits)
    )
    privacy = build_privacy(
        settings, session_factory, declarations, audit, compliance, vault, crypto, retention=retention
    )
    # An open data-subject request keeps the evidence it concerns until it is answered.
    schedule.watch_requests(privacy)
    witness = build_witness(settings, ledger=ledger, events=AuditWitnessEvents(audit))
    sharing = build_sharing(settings, session_factory, ledger, audit, declarations, vault, witness)
    # Partners registered by `sharing partner add` are reached with the CAs of their identity documents.
    witness.client_factory = lambda: sharing.partner_client(
        extra_ca=settings.ledger_partner_ca_file, timeout_s=settings.ledger_witness_timeout_s
    )
    detection = DetectionService(
        session_factory,
        indexer=vault,
        audit=audit,
        accounts=identity,
        detector=build_detector(settings),
        policy=response_policy(settings),
        warm_hours=settings.detection_warm_hours,
        baseline_days=settings.detection_baseline_days,
        read_factory=read_factory,
    )
    # Every audited action becomes an activity event in its audit event's transaction.
    audit.add_observer(detection)
    # Retention runs dispose of received exchange packages and of activity events too.
    retention.add_records(ReceivedPackages())
    retention.add_records(ActivityRecords())
    retention.add_records(DraftRecords())
    drafts = DraftService(session_factory, vault=vault, box=secret_box, audit=audit)
    training = TrainingService(
        session_factory, accounts=identity, audit=audit, read_factory=read_factory,
        reminder_days=settings.training_reminder_days,
    )  # fmt: skip
    posture = build_posture(
        Sources(
            settings, session_factory, identity, ledger, retention, crypto=crypto, witness=witness,
            detection=detection, training=training,
        ),
        alerts=detection,
    )  # fmt: skip
    return Services(
        settings, engine, session_factory, compliance, vault, ledger, audit, risk, declarations, identity,
        travellers, crypto=crypto, erasure=erasure, retention=retention, privacy=privacy, witness=witness,
        sharing=sharing, detection=detection, training=training, posture=posture, drafts=drafts,
    )  # fmt: skip


def build_posture(sources: Sources, *, alerts: DetectionService | None) -> PostureService:
    """The self-audit over `sources`, pip-audit's answers cached under var/posture/."""
    settings = sources.settings
    sources.dependencies = DependencyAudit(settings.var_dir / "posture", timeout_s=settings.posture_advisory_timeout_s)
    return PostureService(sources, alerts=alerts)


def build_privacy(
    settings: Settings,
    session_factory: sessionmaker[Session],
    declarations: DeclarationService,
    audit: AuditService,
    compliance: ComplianceService,
    vault: FieldVault,
    crypto: CryptoService | None,
    *,
    retention: RetentionView | None,
) -> PrivacyService:
    """Privacy over the declarations, the audit trail and the key service. `retention`: the retention
    policies and holds (None: reports say retention is "unknown" and
    erasure requests are refused)."""
    return PrivacyService(
        session_factory,
        settings=settings,
        declarations=declarations,
        audit=audit,
        eori=compliance,
        vault=vault,
        shredder=crypto,
        retention=retention,
    )


def build_sharing(
    settings: Settings,
    session_factory: sessionmaker[Session],
    ledger: LedgerService,
    audit: AuditService,
    declarations: DeclarationService,
    vault: FieldVault,
    witness: WitnessService,
) -> SharingService:
    """Sharing with partner administrations; its keys load on first use, so an instance that never
    shares needs none. Its packages' ledger entries are checked by `ledger verify`."""
    ledger.add_source(SharingCommitments())
    return SharingService(
        session_factory,
        settings=settings,
        ledger=ledger,
        witness=lambda: witness,
        audit=audit,
        declarations=declarations,
        vault=vault,
        keys=lambda: load_sharing_keys(settings),
    )


def build_lifecycle(services: Services, *, vault: FieldVault, risk: RiskAssessor | None = None) -> DeclarationService:
    """The declaration lifecycle on `services`' database with compliance rules and `vault` (and `risk`
    when given), but no ledger or audit: what the benchmarks set beside the full pipeline to show what
    each layer costs. Production uses build_services' `declarations`."""
    return DeclarationService(services.session_factory, compliance=services.compliance, vault=vault, risk=risk)
