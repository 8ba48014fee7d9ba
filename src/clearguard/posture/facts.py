"""What the self-audit knows about the instance, gathered once per run (gather.py) and judged by
the pure checks (checks.py). Plain values only: no service, session or file handle, so a check is
tested by building these by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A fact that could not be gathered, and why (the check then says `not checked: <why>`)."""

    why: str


@dataclass(frozen=True, slots=True)
class TlsFacts:
    minimum_version: str  # ssl.TLSVersion name: TLSv1_2, TLSv1_3, MINIMUM_SUPPORTED...
    # (name, protocol, key exchange, aead) of every suite the server context enables
    ciphers: tuple[tuple[str, str, str, bool], ...]
    certificate: str  # path of the server certificate
    not_after: datetime
    client_certificates: str  # "required", "optional" or "none"


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    role: str
    disabled: bool
    mfa: bool
    created_at: datetime
    last_sign_in: datetime | None


@dataclass(frozen=True, slots=True)
class KekFacts:
    provider: str
    current_version: int | None
    current_created_at: datetime | None
    live_keys: int
    pending_rewrap: int
    rotation_days: int


@dataclass(frozen=True, slots=True)
class ShareStoreFacts:
    reachable: bool
    detail: str
    sampled: int
    missing: int


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    size: int  # integrated entries now
    first_checkpoint_at: datetime | None
    last_verified_at: datetime | None
    last_ok: bool | None
    last_size: int | None
    last_problems: int | None


@dataclass(frozen=True, slots=True)
class WitnessFacts:
    witness: str
    cosigned_size: int
    uncosigned_since: datetime | None


@dataclass(frozen=True, slots=True)
class RetentionFacts:
    due_now: dict[str, int]  # what a disposal run now would dispose of, by kind
    overdue: dict[str, int]  # ... what was already due `grace_days` ago
    held: int
    grace_days: int


@dataclass(frozen=True, slots=True)
class AlertFacts:
    open: int
    open_high: int
    oldest_high_at: datetime | None


@dataclass(frozen=True, slots=True)
class TrainingGapFacts:
    username: str
    role: str
    course: str
    status: Literal["missing", "expired", "expiring"]
    reason: str


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Files and directories under var/ that others can reach, and keys that are not 0600."""

    root: str
    scanned: int
    exposed: tuple[tuple[str, int], ...]  # (path relative to root, mode) readable/writable by group or others
    loose_keys: tuple[tuple[str, int], ...]  # key files under keys/ whose mode is not exactly 0600


@dataclass(frozen=True, slots=True)
class Vulnerability:
    package: str
    version: str
    advisory: str
    fixed_in: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DependencyFacts:
    checked_at: datetime
    packages: int
    vulnerabilities: tuple[Vulnerability, ...]
    cached: bool


@dataclass(frozen=True, slots=True)
class ConfigFacts:
    env: str
    secret_key_set: bool
    secret_key_placeholder: bool
    database: str  # "sqlite" or "postgresql"
    database_echo: bool
    redis: bool
    key_provider: str
    demo_accounts: tuple[str, ...] = field(default_factory=tuple)  # enabled demo accounts present


@dataclass(frozen=True, slots=True)
class Facts:
    now: datetime
    tls: TlsFacts | Unavailable
    accounts: tuple[Account, ...] | Unavailable
    keys: KekFacts | Unavailable
    shares: ShareStoreFacts | Unavailable
    ledger: LedgerFacts | Unavailable
    witnesses: tuple[WitnessFacts, ...] | Unavailable
    retention: RetentionFacts | Unavailable
    alerts: AlertFacts | Unavailable
    training: tuple[TrainingGapFacts, ...] | Unavailable
    files: FileFacts | Unavailable
    dependencies: DependencyFacts | Unavailable
    config: ConfigFacts
