"""Each check's pass, warn and fail, on facts built by hand (the checks are pure)."""

from __future__ import annotations

import ssl
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from clearguard.crypto.tls import _key_pem, issue, make_ca
from clearguard.posture.checks import CHECKS, run_checks
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
    TrainingGapFacts,
    Unavailable,
    Vulnerability,
    WitnessFacts,
)
from clearguard.posture.gather import tls_facts
from tests.unit.posture.facts_builder import NOW, healthy

DAY = timedelta(days=1)


def status(check_id: str, **changes: object) -> tuple[str, str]:
    results = {r.id: r for r in run_checks(healthy(**changes))}
    return results[check_id].status, results[check_id].reason


def test_a_healthy_instance_passes_every_check_and_each_names_an_asvs_requirement() -> None:
    results = run_checks(healthy())
    assert [r.status for r in results] == ["pass"] * len(CHECKS), [
        (r.id, r.reason) for r in results if r.status != "pass"
    ]
    assert all(r.asvs.startswith("V") and r.asvs.count(".") == 2 for r in results)
    assert len({r.id for r in results}) == len(results)


def _context(tmp_path: Path, *, weak: bool) -> tuple[ssl.SSLContext, Path]:
    ca, ca_key = make_ca()
    cert, key = issue(ca, ca_key, "localhost", dns_names=("localhost",))
    cert_path, key_path = tmp_path / "c.pem", tmp_path / "k.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_key_pem(key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if weak:
        # What a careless configuration would allow: any protocol OpenSSL still has, RSA key exchange.
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.set_ciphers("ECDHE+AESGCM:AES128-SHA:@SECLEVEL=0")
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    ctx.load_cert_chain(cert_path, key_path)
    return ctx, cert_path


def test_tls_facts_of_a_weak_real_context_fail_protocol_and_ciphers(tmp_path: Path) -> None:
    weak, cert = _context(tmp_path, weak=True)
    facts = tls_facts(weak, cert)
    assert status("tls.protocol", tls=facts)[0] == "fail"
    state, reason = status("tls.ciphers", tls=facts)
    assert state == "fail" and "AES128-SHA" in reason
    strong, cert = _context(tmp_path, weak=False)
    facts = tls_facts(strong, cert)
    assert status("tls.protocol", tls=facts)[0] == "pass"
    assert status("tls.ciphers", tls=facts)[0] == "pass"


def test_certificate_expiry_warns_within_thirty_days_and_fails_once_expired() -> None:
    tls = healthy().tls
    assert not isinstance(tls, Unavailable)
    assert status("tls.certificate", tls=replace(tls, not_after=NOW + 29 * DAY))[0] == "warn"
    assert status("tls.certificate", tls=replace(tls, not_after=NOW - DAY))[0] == "fail"
    assert status("tls.certificate", tls=Unavailable("missing"))[0] == "fail"


def test_second_factor_missing_warns_for_a_week_then_fails() -> None:
    new = Account("new-user", "officer", False, False, NOW - 2 * DAY, None)
    old = Account("old-user", "officer", False, False, NOW - 8 * DAY, None)
    gone = Account("gone-user", "officer", True, False, NOW - 80 * DAY, None)
    assert status("identity.mfa", accounts=(new, gone))[0] == "warn"
    state, reason = status("identity.mfa", accounts=(new, old))
    assert state == "fail" and "old-user" in reason and "new-user" not in reason


def test_dormant_accounts_fail_after_ninety_days_without_a_sign_in() -> None:
    sleeper = Account("sleeper", "trader", False, True, NOW - 400 * DAY, NOW - 91 * DAY)
    never = Account("never", "auditor", False, True, NOW - 91 * DAY, None)
    disabled = Account("left", "admin", True, True, NOW - 400 * DAY, NOW - 300 * DAY)
    state, reason = status("identity.dormant", accounts=(sleeper, never, disabled))
    assert state == "fail" and "sleeper" in reason and "never" in reason and "left" not in reason
    recent = Account("recent", "trader", False, True, NOW - 400 * DAY, NOW - 89 * DAY)
    assert status("identity.dormant", accounts=(recent,))[0] == "pass"


def test_privileged_accounts_are_listed_warned_when_idle_and_demo_accounts_fail_outside_dev() -> None:
    idle = Account("dpo-1", "dpo", False, True, NOW - 400 * DAY, NOW - 31 * DAY)
    state, reason = status("identity.privileged", accounts=(idle,))
    assert state == "warn" and "dpo-1" in reason
    config = healthy().config
    demo = replace(config, demo_accounts=("demo-admin",))
    assert status("identity.privileged", config=demo)[0] == "fail"
    assert status("identity.privileged", config=replace(demo, env="dev"))[0] == "pass"


def test_key_rotation_fails_past_the_period_and_warns_before_and_while_rewrapping() -> None:
    assert status("crypto.key_rotation", keys=KekFacts("file", 3, NOW - 366 * DAY, 9, 0, 365))[0] == "fail"
    assert status("crypto.key_rotation", keys=KekFacts("file", 3, NOW - 340 * DAY, 9, 0, 365))[0] == "warn"
    assert status("crypto.key_rotation", keys=KekFacts("file", 3, NOW - 3 * DAY, 9, 4, 365))[0] == "warn"
    assert status("crypto.key_rotation", keys=KekFacts("file", None, None, 0, 0, 365))[0] == "pass"


def test_share_store_fails_unreachable_or_missing_shares() -> None:
    assert status("crypto.share_store", shares=ShareStoreFacts(False, "OperationalError", 0, 0))[0] == "fail"
    assert status("crypto.share_store", shares=ShareStoreFacts(True, "reachable", 10, 1))[0] == "fail"


def test_ledger_verification_age_and_result() -> None:
    never_old = LedgerFacts(10, NOW - 3 * DAY, None, None, None, None)
    never_new = LedgerFacts(10, NOW - timedelta(hours=2), None, None, None, None)
    assert status("ledger.verification", ledger=never_old)[0] == "fail"
    assert status("ledger.verification", ledger=never_new)[0] == "warn"
    failed = LedgerFacts(10, NOW - 3 * DAY, NOW - DAY / 2, False, 10, 3)
    assert status("ledger.verification", ledger=failed)[0] == "fail"
    assert (
        status("ledger.verification", ledger=replace(failed, last_ok=True, last_verified_at=NOW - 2 * DAY))[0] == "warn"
    )
    assert (
        status("ledger.verification", ledger=replace(failed, last_ok=True, last_verified_at=NOW - 8 * DAY))[0] == "fail"
    )


def test_witness_cosignatures_lagging_warn_then_fail() -> None:
    current = WitnessFacts("partner-a", 100, None)
    hour_late = WitnessFacts("partner-b", 90, NOW - 2 * timedelta(hours=1))
    day_late = WitnessFacts("partner-c", 50, NOW - 2 * DAY)
    assert status("ledger.witnesses", witnesses=(current,))[0] == "pass"
    assert status("ledger.witnesses", witnesses=(current, hour_late))[0] == "warn"
    state, reason = status("ledger.witnesses", witnesses=(current, hour_late, day_late))
    assert state == "fail" and "partner-c" in reason


def test_retention_backlog_fails_only_past_the_grace() -> None:
    due = RetentionFacts({"declarations": 4}, {"declarations": 0}, 1, 7)
    assert status("retention.backlog", retention=due)[0] == "pass"
    late = RetentionFacts({"declarations": 4}, {"declarations": 2, "traveller_records": 1}, 0, 7)
    state, reason = status("retention.backlog", retention=late)
    assert state == "fail" and "2 declarations" in reason and "1 traveller records" in reason


def test_open_alerts_warn_and_fail_when_a_serious_one_waits_over_a_day() -> None:
    assert status("detection.open_alerts", alerts=AlertFacts(2, 0, None))[0] == "warn"
    assert status("detection.open_alerts", alerts=AlertFacts(2, 1, NOW - timedelta(hours=2)))[0] == "warn"
    assert status("detection.open_alerts", alerts=AlertFacts(2, 1, NOW - 2 * DAY))[0] == "fail"


def test_training_gaps_fail_when_missing_or_expired_and_warn_when_expiring() -> None:
    expiring = TrainingGapFacts("off-1", "officer", "data-protection", "expiring", "expires in 10 days")
    expired = TrainingGapFacts("adm-1", "admin", "data-protection", "expired", "expired on 2026-11-01")
    assert status("training.privileged", training=(expiring,))[0] == "warn"
    assert status("training.privileged", training=(expiring, expired))[0] == "fail"
    state, reason = status("training.privileged", training=Unavailable("no training records service"))
    assert state == "warn" and reason.startswith("not checked: ")


def test_files_open_to_others_or_loose_keys_fail() -> None:
    assert status("files.permissions", files=FileFacts("var", 9, (("clearguard.db", 0o644),), ()))[0] == "fail"
    assert status("files.permissions", files=FileFacts("var", 9, (), (("keys/x.key", 0o400),)))[0] == "fail"


@pytest.mark.asvs("V15.2.1")
def test_vulnerable_dependencies_fail_and_not_checked_warns() -> None:
    found = DependencyFacts(NOW, 150, (Vulnerability("jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95", ("3.1.3",)),), False)
    state, reason = status("dependencies.vulnerable", dependencies=found)
    assert state == "fail" and "GHSA-h5c8-rqwp-cp95" in reason and "3.1.3" in reason
    state, reason = status("dependencies.vulnerable", dependencies=Unavailable("timeout"))
    assert (state, reason) == ("warn", "not checked: timeout")


@pytest.mark.asvs("V13.4.2")
def test_configuration_outside_dev_needs_a_real_secret_and_no_sql_echo() -> None:
    prod = ConfigFacts("prod", True, False, "postgresql", False, True, "pkcs11")
    assert status("config.production", config=replace(prod, secret_key_set=False))[0] == "fail"
    assert status("config.production", config=replace(prod, secret_key_placeholder=True))[0] == "fail"
    assert status("config.production", config=replace(prod, database_echo=True))[0] == "fail"
    state, reason = status("config.production", config=replace(prod, database="sqlite", key_provider="file"))
    assert state == "warn" and "SQLite" in reason and "HSM" in reason
    assert status("config.production", config=replace(prod, env="dev"))[0] == "warn"
    assert status("config.production", config=replace(prod, env="test", redis=False))[0] == "pass"
