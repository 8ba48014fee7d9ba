"""Gathering the facts the checks judge, through each capability's service (and, for TLS and file
modes, the files themselves). A fact that cannot be gathered becomes Unavailable with the cause, so
one broken part never stops the rest of the audit."""

from __future__ import annotations

import os
import ssl
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, TypeVar

from cryptography import x509
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from clearguard.config import PLACEHOLDER_SECRETS, Settings
from clearguard.crypto import CryptoService
from clearguard.crypto.tls import resolve_server_files, server_context
from clearguard.detection.service import DetectionService
from clearguard.errors import ClearGuardError
from clearguard.identity import DEMO_USERNAMES, IdentityService
from clearguard.ledger.service import LedgerService
from clearguard.ledger.witness_service import WitnessService
from clearguard.posture.advisories import DependencyAudit
from clearguard.posture.facts import (
    Account,
    AlertFacts,
    ConfigFacts,
    DependencyFacts,
    FileFacts,
    KekFacts,
    LedgerFacts,
    RetentionFacts,
    ShareStoreFacts,
    TlsFacts,
    TrainingGapFacts,
    Unavailable,
    WitnessFacts,
)
from clearguard.posture.ports import TrainingGaps
from clearguard.retention import RetentionService

T = TypeVar("T")
RETENTION_GRACE_DAYS: Final = 7  # disposal runs at least weekly; older due records are a backlog
FILE_SCAN_LIMIT: Final = 200_000
_OPEN_TO_OTHERS: Final = stat.S_IRWXG | stat.S_IRWXO


def attempt(gather: Callable[[], T]) -> T | Unavailable:
    """`gather()`, or Unavailable naming what stopped it (never an exception out of the audit)."""
    try:
        return gather()
    except ClearGuardError as exc:
        return Unavailable(str(exc))
    except SQLAlchemyError as exc:
        return Unavailable(f"database: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    except (OSError, ssl.SSLError, ValueError) as exc:
        return Unavailable(f"{type(exc).__name__}: {exc}")


# ----------------------------------------------------------------------------------------- TLS


def tls_facts(context: ssl.SSLContext, certificate: Path) -> TlsFacts:
    """What a server context enables, and its certificate's expiry (the first PEM block: the leaf)."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    ciphers = tuple(
        (str(c["name"]), str(c["protocol"]), str(c.get("kea", "")), bool(c.get("aead", False)))
        for c in context.get_ciphers()
    )
    modes = {ssl.CERT_REQUIRED: "required", ssl.CERT_OPTIONAL: "optional"}
    return TlsFacts(
        minimum_version=context.minimum_version.name,
        ciphers=ciphers,
        certificate=str(certificate),
        not_after=cert.not_valid_after_utc,
        client_certificates=modes.get(context.verify_mode, "none"),
    )


def gather_tls(settings: Settings) -> TlsFacts:
    """The context `clearguard serve` would build (crypto.tls): same files, same checks."""
    cert, key = resolve_server_files(settings)
    context = server_context(
        cert, key, client_ca=settings.tls_client_ca_file, require_client_cert=settings.tls_require_client_cert
    )
    return tls_facts(context, cert)


# --------------------------------------------------------------------------------------- files


def scan_files(root: Path, keys_dir: Path, *, limit: int = FILE_SCAN_LIMIT) -> FileFacts:
    """Every file and directory under `root` (symlinks not followed) that group or others can reach,
    and every regular file under `keys_dir` whose mode is not exactly 0600."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist")
    exposed: list[tuple[str, int]] = []
    loose: list[tuple[str, int]] = []
    scanned = 0
    keys = keys_dir.resolve()

    def entries() -> Iterator[Path]:
        yield root
        for directory, dirnames, filenames in os.walk(root, followlinks=False):
            for name in (*dirnames, *filenames):
                yield Path(directory) / name

    for path in entries():
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue  # removed while walking (a temporary file)
        if stat.S_ISLNK(info.st_mode):
            continue
        scanned += 1
        mode = stat.S_IMODE(info.st_mode)
        relative = str(path.relative_to(root)) if path != root else "."
        if mode & _OPEN_TO_OTHERS:
            exposed.append((relative, mode))
        elif stat.S_ISREG(info.st_mode) and mode != 0o600 and _under(path, keys) and not path.name.endswith(".pem"):
            loose.append((relative, mode))
        if scanned >= limit:
            return FileFacts(f"{root} (first {limit})", scanned, tuple(exposed), tuple(loose))
    return FileFacts(str(root), scanned, tuple(exposed), tuple(loose))


def _under(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------ services


@dataclass
class Sources:
    """The services the facts come from (built by wiring.py); None where an instance has none."""

    settings: Settings
    session_factory: sessionmaker[Session]
    identity: IdentityService
    ledger: LedgerService
    retention: RetentionService
    crypto: CryptoService | None = None
    witness: WitnessService | None = None
    detection: DetectionService | None = None
    training: TrainingGaps | None = None
    dependencies: DependencyAudit | None = None


def gather_accounts(sources: Sources) -> tuple[Account, ...]:
    return tuple(
        Account(a.username, a.role, a.disabled, a.mfa, a.created_at, a.last_sign_in)
        for a in sources.identity.account_activity()
    )


def gather_keys(sources: Sources) -> KekFacts | Unavailable:
    crypto = sources.crypto
    if crypto is None:
        return Unavailable("no envelope-encryption service is configured")
    with sources.session_factory() as session:
        status = crypto.status(session)
    current = status.versions[-1] if status.versions else None
    return KekFacts(
        status.provider,
        status.current_version,
        None if current is None else current.created_at,
        status.live_keys,
        status.pending_rewrap,
        sources.settings.crypto_kek_rotation_days,
    )


def gather_shares(sources: Sources) -> ShareStoreFacts | Unavailable:
    crypto = sources.crypto
    if crypto is None:
        return Unavailable("no envelope-encryption service is configured")
    with sources.session_factory() as session:
        health = crypto.share_store_health(session)
    return ShareStoreFacts(health.reachable, health.detail, health.sampled, health.missing)


def gather_ledger(sources: Sources) -> LedgerFacts:
    with sources.session_factory() as session:
        size, first = sources.ledger.history(session)
    last = sources.ledger.last_verification()
    if last is None:
        return LedgerFacts(size, first, None, None, None, None)
    return LedgerFacts(size, first, last.at, last.ok, last.size, last.problems)


def gather_witnesses(sources: Sources) -> tuple[WitnessFacts, ...] | Unavailable:
    witness = sources.witness
    if witness is None:
        return Unavailable("no witness service is configured")
    with sources.session_factory() as session:
        status = witness.cosignature_status(session)
    return tuple(WitnessFacts(s.witness, s.cosigned_size, s.uncosigned_since) for s in status)


def gather_retention(sources: Sources, now: datetime) -> RetentionFacts:
    def due(as_of: datetime) -> tuple[dict[str, int], int]:
        report = sources.retention.run(as_of=as_of, actor="self-audit", dry_run=True, role="system", source="posture")
        return {k: int(v) for k, v in report.counts.items()}, report.held

    due_now, held = due(now)
    overdue, _ = due(now - timedelta(days=RETENTION_GRACE_DAYS))
    return RetentionFacts(due_now, overdue, held, RETENTION_GRACE_DAYS)


def gather_alerts(sources: Sources) -> AlertFacts | Unavailable:
    if sources.detection is None:
        return Unavailable("no detection service is configured")
    summary = sources.detection.open_alerts()
    return AlertFacts(summary.count, summary.high, summary.oldest_high_at)


def gather_training(sources: Sources, now: datetime) -> tuple[TrainingGapFacts, ...] | Unavailable:
    if sources.training is None:
        return Unavailable("no training records service in this instance")
    return tuple(
        TrainingGapFacts(g.username, g.role, g.course, g.status, g.reason)
        for g in sources.training.privileged_gaps(now)
    )


def gather_dependencies(sources: Sources, now: datetime) -> DependencyFacts | Unavailable:
    if sources.dependencies is None:
        return Unavailable("dependency audit not configured")
    return sources.dependencies.facts(now)


def gather_config(settings: Settings, accounts: tuple[Account, ...] | Unavailable) -> ConfigFacts:
    secret = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    demo = () if isinstance(accounts, Unavailable) else tuple(
        a.username for a in accounts if a.username in DEMO_USERNAMES and not a.disabled
    )  # fmt: skip
    return ConfigFacts(
        env=settings.env,
        secret_key_set=bool(secret),
        secret_key_placeholder=secret is not None and secret.lower() in PLACEHOLDER_SECRETS,
        database="sqlite" if settings.database_url.startswith("sqlite") else "postgresql",
        database_echo=settings.database_echo,
        redis=settings.redis_url is not None,
        key_provider=settings.crypto_provider,
        demo_accounts=demo,
    )
