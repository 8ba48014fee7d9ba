"""The self-audit's checks: pure functions from gathered facts to pass, warn or fail with a reason,
each tied to the OWASP ASVS 5.0 requirement it verifies (docs/asvs/). No I/O here: gather.py
collects the facts, so each threshold below is tested with facts built by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from clearguard.posture.facts import (
    Account,
    AlertFacts,
    ConfigFacts,
    DependencyFacts,
    Facts,
    FileFacts,
    KekFacts,
    LedgerFacts,
    RetentionFacts,
    ShareStoreFacts,
    TrainingGapFacts,
    Unavailable,
    WitnessFacts,
)

Status = Literal["pass", "warn", "fail"]
STATUSES: Final[tuple[Status, ...]] = ("pass", "warn", "fail")

# The roles issue 18 names as privileged: they see or decide on protected data, or run the system.
PRIVILEGED_ROLES: Final = frozenset({"officer", "risk_analyst", "auditor", "dpo", "admin", "security"})
CERT_WARN_DAYS: Final = 30
DORMANT_DAYS: Final = 90
PRIVILEGED_IDLE_DAYS: Final = 30
MFA_ENROL_DAYS: Final = 7  # a new account enrols its second factor at first sign-in; a week to do it
KEK_WARN_DAYS: Final = 30  # warn this long before a KEK's rotation is due
LEDGER_VERIFY_WARN: Final = timedelta(hours=26)  # verified daily, with slack for the schedule
LEDGER_VERIFY_FAIL: Final = timedelta(days=7)
LEDGER_GRACE: Final = timedelta(days=1)  # a new log may not have been verified yet
WITNESS_WARN: Final = timedelta(hours=1)
WITNESS_FAIL: Final = timedelta(hours=24)
ALERT_TRIAGE: Final = timedelta(hours=24)  # a serious alert left open longer fails
LISTED: Final = 10  # names listed in a reason before "and N more"
# Suites of TLS 1.2 and below must be forward secret (ECDHE/DHE) and AEAD; TLS 1.3's all are.
FORWARD_SECRET_KX: Final = frozenset({"kx-ecdhe", "kx-dhe", "kx-any"})


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: str
    title: str
    status: Status
    reason: str
    asvs: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "status": self.status, "reason": self.reason, "asvs": self.asvs}


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    title: str
    asvs: str
    judge: Callable[[Facts], tuple[Status, str]]

    def run(self, facts: Facts) -> CheckResult:
        status, reason = self.judge(facts)
        return CheckResult(self.id, self.title, status, reason, self.asvs)


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown if len(items) <= LISTED else f"{shown} and {len(items) - LISTED} more"


def _day(moment: datetime | None) -> str:
    return "never" if moment is None else moment.date().isoformat()


def _not_checked(value: Unavailable) -> tuple[Status, str]:
    return "warn", f"not checked: {value.why}"


# ----------------------------------------------------------------------------------------- TLS


def tls_protocol(facts: Facts) -> tuple[Status, str]:
    tls = facts.tls
    if isinstance(tls, Unavailable):
        return "fail", f"no usable TLS configuration: {tls.why}"
    if tls.minimum_version not in ("TLSv1_2", "TLSv1_3"):
        return "fail", f"minimum TLS version is {tls.minimum_version}; TLS 1.2 or 1.3 only"
    return "pass", f"minimum {tls.minimum_version.replace('_', '.')}; client certificates {tls.client_certificates}"


def tls_ciphers(facts: Facts) -> tuple[Status, str]:
    tls = facts.tls
    if isinstance(tls, Unavailable):
        return "fail", f"no usable TLS configuration: {tls.why}"
    weak = [
        name
        for name, protocol, kx, aead in tls.ciphers
        if protocol != "TLSv1.3" and (not aead or kx not in FORWARD_SECRET_KX)
    ]
    if weak:
        return "fail", f"{len(weak)} suites without forward secrecy or AEAD enabled: {_names(weak)}"
    if not tls.ciphers:
        return "fail", "no cipher suite enabled"
    return "pass", f"{len(tls.ciphers)} suites, all forward secret with AEAD"


def tls_certificate(facts: Facts) -> tuple[Status, str]:
    tls = facts.tls
    if isinstance(tls, Unavailable):
        return "fail", f"no usable TLS configuration: {tls.why}"
    left = tls.not_after - facts.now
    if left <= timedelta(0):
        return "fail", f"server certificate {tls.certificate} expired on {_day(tls.not_after)}"
    if left < timedelta(days=CERT_WARN_DAYS):
        return "warn", f"server certificate {tls.certificate} expires on {_day(tls.not_after)} ({left.days} days)"
    return "pass", f"server certificate valid until {_day(tls.not_after)} ({left.days} days)"


# ------------------------------------------------------------------------------------ accounts


def _enabled(facts: Facts) -> tuple[Account, ...] | Unavailable:
    if isinstance(facts.accounts, Unavailable):
        return facts.accounts
    return tuple(a for a in facts.accounts if not a.disabled)


def mfa_coverage(facts: Facts) -> tuple[Status, str]:
    accounts = _enabled(facts)
    if isinstance(accounts, Unavailable):
        return _not_checked(accounts)
    without = [a for a in accounts if not a.mfa]
    overdue = [a.username for a in without if facts.now - a.created_at > timedelta(days=MFA_ENROL_DAYS)]
    if overdue:
        return "fail", (
            f"{len(overdue)} enabled accounts without a second factor for over {MFA_ENROL_DAYS} days: "
            f"{_names(overdue)} (disable them, or have them enrol)"
        )
    if without:
        return (
            "warn",
            f"{len(without)} new accounts without a second factor yet: {_names([a.username for a in without])}",
        )
    return "pass", f"all {len(accounts)} enabled accounts have a second factor"


def _last_use(account: Account) -> datetime:
    return account.last_sign_in or account.created_at


def privileged_accounts(facts: Facts) -> tuple[Status, str]:
    accounts = _enabled(facts)
    if isinstance(accounts, Unavailable):
        return _not_checked(accounts)
    privileged = sorted((a for a in accounts if a.role in PRIVILEGED_ROLES), key=_last_use)
    roles = Counter(a.role for a in privileged)
    summary = ", ".join(f"{role} {n}" for role, n in sorted(roles.items())) or "none"
    uses = _names([f"{a.username} ({a.role}) {_day(a.last_sign_in)}" for a in privileged])
    demo = facts.config.demo_accounts
    if demo and facts.config.env != "dev":
        return "fail", f"demo accounts enabled outside dev: {_names(list(demo))} (disable them: `users disable`)"
    idle = [a.username for a in privileged if facts.now - _last_use(a) > timedelta(days=PRIVILEGED_IDLE_DAYS)]
    if idle:
        return "warn", (
            f"{len(idle)} privileged accounts unused for over {PRIVILEGED_IDLE_DAYS} days: {_names(idle)}; "
            f"privileged accounts: {summary}; last sign-in, oldest first: {uses}"
        )
    return "pass", f"privileged accounts: {summary}; last sign-in, oldest first: {uses}"


def dormant_accounts(facts: Facts) -> tuple[Status, str]:
    accounts = _enabled(facts)
    if isinstance(accounts, Unavailable):
        return _not_checked(accounts)
    dormant = [
        f"{a.username} (last sign-in {_day(a.last_sign_in)})"
        for a in sorted(accounts, key=_last_use)
        if facts.now - _last_use(a) > timedelta(days=DORMANT_DAYS)
    ]
    if dormant:
        return "fail", f"{len(dormant)} enabled accounts without a sign-in for {DORMANT_DAYS} days: {_names(dormant)}"
    return "pass", f"no enabled account is dormant ({DORMANT_DAYS} days without a sign-in)"


# ---------------------------------------------------------------------------------------- keys


def key_rotation(facts: Facts) -> tuple[Status, str]:
    keys = facts.keys
    if isinstance(keys, Unavailable):
        return _not_checked(keys)
    return judge_keys(keys, facts.now)


def judge_keys(keys: KekFacts, now: datetime) -> tuple[Status, str]:
    if keys.current_version is None or keys.current_created_at is None:
        # The database records a KEK version with the first data key it wraps.
        return "pass", f"no data key sealed yet ({keys.provider} key provider)"
    age = (now - keys.current_created_at).days
    due = keys.current_created_at + timedelta(days=keys.rotation_days)
    where = f"KEK version {keys.current_version} ({keys.provider}) is {age} days old"
    if now >= due:
        return "fail", f"{where}; rotation was due on {_day(due)} (every {keys.rotation_days} days): `keys rotate`"
    if keys.pending_rewrap:
        return "warn", f"{where}; {keys.pending_rewrap} data keys still under an older version: `keys rotate` resumes"
    if due - now < timedelta(days=KEK_WARN_DAYS):
        return "warn", f"{where}; rotation due on {_day(due)}"
    return "pass", f"{where}; next rotation due on {_day(due)}; {keys.live_keys} live data keys"


def share_store(facts: Facts) -> tuple[Status, str]:
    shares = facts.shares
    if isinstance(shares, Unavailable):
        return "fail", f"party share store unusable: {shares.why}"
    return judge_shares(shares)


def judge_shares(shares: ShareStoreFacts) -> tuple[Status, str]:
    if not shares.reachable:
        return "fail", f"party share store unreachable: {shares.detail}"
    if shares.missing:
        return (
            "fail",
            f"{shares.missing} of the {shares.sampled} newest live data keys have no share: their data is unreadable",
        )
    return "pass", f"reachable; the {shares.sampled} newest live data keys all have their share"


# -------------------------------------------------------------------------------------- ledger


def ledger_verification(facts: Facts) -> tuple[Status, str]:
    ledger = facts.ledger
    if isinstance(ledger, Unavailable):
        return _not_checked(ledger)
    return judge_ledger(ledger, facts.now)


def judge_ledger(ledger: LedgerFacts, now: datetime) -> tuple[Status, str]:
    if ledger.last_verified_at is None:
        young = ledger.first_checkpoint_at is None or now - ledger.first_checkpoint_at < LEDGER_GRACE
        status: Status = "warn" if young else "fail"
        return status, f"the ledger ({ledger.size} entries) was never verified: run `clearguard ledger verify`"
    age = now - ledger.last_verified_at
    when = f"last verified {ledger.last_verified_at.isoformat(timespec='minutes')} (size {ledger.last_size})"
    if not ledger.last_ok:
        return "fail", f"{when}: verification FAILED with {ledger.last_problems} problems"
    if age > LEDGER_VERIFY_FAIL:
        return "fail", f"{when}, {age.days} days ago: verify at least daily"
    if age > LEDGER_VERIFY_WARN:
        return "warn", f"{when}, {age.days} days ago: verify at least daily"
    return "pass", f"{when}: ok"


def witness_cosignatures(facts: Facts) -> tuple[Status, str]:
    witnesses = facts.witnesses
    if isinstance(witnesses, Unavailable):
        return _not_checked(witnesses)
    return judge_witnesses(witnesses, facts.now)


def judge_witnesses(witnesses: Sequence[WitnessFacts], now: datetime) -> tuple[Status, str]:
    if not witnesses:
        return "pass", "no partner witnesses registered (no partner administration yet)"
    late = [(w, now - w.uncosigned_since) for w in witnesses if w.uncosigned_since is not None]
    failing = [f"{w.witness} (cosigned size {w.cosigned_size})" for w, lag in late if lag > WITNESS_FAIL]
    lagging = [
        f"{w.witness} (cosigned size {w.cosigned_size})" for w, lag in late if WITNESS_WARN < lag <= WITNESS_FAIL
    ]
    if failing:
        return "fail", f"no cosignature for over {WITNESS_FAIL.days} day from: {_names(failing)}"
    if lagging:
        return "warn", f"cosignatures over an hour behind from: {_names(lagging)}"
    return "pass", f"all {len(witnesses)} partner witnesses cosigned within the hour"


# ---------------------------------------------------------------------------- data and alerts


def retention_backlog(facts: Facts) -> tuple[Status, str]:
    retention = facts.retention
    if isinstance(retention, Unavailable):
        return _not_checked(retention)
    return judge_retention(retention)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items()) if n) or "nothing"


def judge_retention(retention: RetentionFacts) -> tuple[Status, str]:
    held = f"; {retention.held} due but under legal hold" if retention.held else ""
    if any(retention.overdue.values()):
        return "fail", (
            f"past their disposal date for over {retention.grace_days} days and not disposed of: "
            f"{_counts(retention.overdue)}{held} (`clearguard retention run`)"
        )
    return "pass", f"due now: {_counts(retention.due_now)}; nothing overdue{held}"


def open_alerts(facts: Facts) -> tuple[Status, str]:
    alerts = facts.alerts
    if isinstance(alerts, Unavailable):
        return _not_checked(alerts)
    return judge_alerts(alerts, facts.now)


def judge_alerts(alerts: AlertFacts, now: datetime) -> tuple[Status, str]:
    if alerts.oldest_high_at is not None and now - alerts.oldest_high_at > ALERT_TRIAGE:
        return "fail", (
            f"{alerts.open_high} high or critical alerts open, "
            f"the oldest since {alerts.oldest_high_at.isoformat(timespec='minutes')}: "
            "triage them (`detection alerts`)"
        )
    if alerts.open:
        return "warn", f"{alerts.open} alerts open ({alerts.open_high} high or critical), none older than a day"
    return "pass", "no open alert"


def training_status(facts: Facts) -> tuple[Status, str]:
    training = facts.training
    if isinstance(training, Unavailable):
        return _not_checked(training)
    return judge_training(training)


def judge_training(gaps: Sequence[TrainingGapFacts]) -> tuple[Status, str]:
    lapsed = [f"{g.username} ({g.role}): {g.course} {g.status}" for g in gaps if g.status in ("missing", "expired")]
    expiring = [f"{g.username} ({g.role}): {g.course} {g.reason}" for g in gaps if g.status == "expiring"]
    if lapsed:
        return "fail", f"{len(lapsed)} privileged staff without current training: {_names(lapsed)}"
    if expiring:
        return "warn", f"{len(expiring)} trainings expiring soon: {_names(expiring)}"
    return "pass", "every privileged account holds current training"


# ------------------------------------------------------------------------- files, deps, config


def file_permissions(facts: Facts) -> tuple[Status, str]:
    files = facts.files
    if isinstance(files, Unavailable):
        return _not_checked(files)
    return judge_files(files)


def judge_files(files: FileFacts) -> tuple[Status, str]:
    problems = [f"{path} {mode:04o}" for path, mode in files.exposed]
    problems += [f"{path} {mode:04o} (keys must be 0600)" for path, mode in files.loose_keys]
    if problems:
        return (
            "fail",
            f"{len(problems)} of {files.scanned} entries under {files.root} open to others: {_names(problems)}",
        )
    return "pass", f"{files.scanned} entries under {files.root}: none open to group or others; keys 0600"


def vulnerable_dependencies(facts: Facts) -> tuple[Status, str]:
    deps = facts.dependencies
    if isinstance(deps, Unavailable):
        return _not_checked(deps)
    return judge_dependencies(deps)


def judge_dependencies(deps: DependencyFacts) -> tuple[Status, str]:
    when = f"pip-audit {deps.checked_at.isoformat(timespec='minutes')}{' (cached)' if deps.cached else ''}"
    if deps.vulnerabilities:
        found = [
            f"{v.package} {v.version} {v.advisory}" + (f" (fixed in {', '.join(v.fixed_in)})" if v.fixed_in else "")
            for v in deps.vulnerabilities
        ]
        return "fail", f"{len(found)} known vulnerabilities ({when}): {_names(found)}"
    return "pass", f"{deps.packages} installed packages, no known vulnerability ({when})"


def production_config(facts: Facts) -> tuple[Status, str]:
    return judge_config(facts.config)


def judge_config(config: ConfigFacts) -> tuple[Status, str]:
    fails: list[str] = []
    warns: list[str] = []
    if config.database_echo:
        # Echo logs every SQL statement with its parameters: sealed blobs, blind indexes, usernames.
        fails.append("database_echo is on (SQL and its parameters go to the logs)")
    if config.env == "dev":
        warns.append("env is dev: placeholder secrets and demo accounts are accepted")
        return ("fail" if fails else "warn"), "; ".join(fails + warns)
    if not config.secret_key_set:
        fails.append("secret_key is not set (CLEARGUARD_SECRET_KEY)")
    elif config.secret_key_placeholder:
        fails.append("secret_key is a placeholder")
    if config.env == "prod":
        if config.database == "sqlite":
            warns.append("SQLite in prod: one process on one machine; PostgreSQL for several workers and failover")
        if not config.redis:
            warns.append("no redis_url: rate limits and revocations are per process")
        if config.key_provider == "file":
            warns.append("key-encryption keys in a local file: an HSM (crypto_provider=pkcs11) is expected in prod")
    if fails:
        return "fail", "; ".join(fails + warns)
    if warns:
        return "warn", "; ".join(warns)
    return "pass", f"env {config.env}: secret key set, no SQL echo, {config.database}, {config.key_provider} keys"


CHECKS: Final[tuple[Check, ...]] = (
    Check("tls.protocol", "TLS protocol versions", "V12.1.1", tls_protocol),
    Check("tls.ciphers", "TLS cipher suites", "V12.1.2", tls_ciphers),
    Check("tls.certificate", "Server certificate expiry", "V12.2.2", tls_certificate),
    Check("identity.mfa", "Second factor coverage", "V6.3.3", mfa_coverage),
    Check("identity.privileged", "Privileged accounts and their last use", "V6.3.2", privileged_accounts),
    Check("identity.dormant", "Dormant accounts", "V7.4.2", dormant_accounts),
    Check("crypto.key_rotation", "Key-encryption key age and rotation", "V11.1.1", key_rotation),
    Check("crypto.share_store", "Party share store reachability", "V13.3.1", share_store),
    Check("ledger.verification", "Ledger verification age", "V16.4.2", ledger_verification),
    Check("ledger.witnesses", "Witness cosignatures of the ledger", "V16.4.3", witness_cosignatures),
    Check("retention.backlog", "Retention backlog", "V14.2.7", retention_backlog),
    Check("detection.open_alerts", "Open security alerts", "V16.3.3", open_alerts),
    Check("training.privileged", "Training of privileged staff", "V8.2.1", training_status),
    Check("files.permissions", "File permissions under var/", "V13.3.2", file_permissions),
    Check("dependencies.vulnerable", "Known vulnerable dependencies", "V15.2.1", vulnerable_dependencies),
    Check("config.production", "Configuration outside dev", "V13.4.2", production_config),
)


def run_checks(facts: Facts, checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    return [check.run(facts) for check in checks]
