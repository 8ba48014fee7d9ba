"""Each check's fail case, made to happen for real on SQLite and PostgreSQL: an expired certificate,
an account without a second factor, a dormant account (its last sign-in edited by hand), demo
accounts in prod, an old key-encryption key, a lost share and a broken share store, a ledger never
verified or tampered with, a silent witness, an overdue record, an untriaged alert, untrained
staff, loose file modes, and a production configuration without its secret."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import select, text, update

from clearguard.audit import NewAuditEvent
from clearguard.crypto.shares import share_metadata
from clearguard.crypto.tables import DataKey, KekVersion
from clearguard.crypto.tls import TlsFiles, _key_pem, _new_key, issue, load_ca
from clearguard.db import transaction
from clearguard.detection import alerts as detection_alerts
from clearguard.detection.engine import Finding
from clearguard.identity import create_demo_accounts
from clearguard.identity.tables import Account, AuthSession
from clearguard.ledger.commitment import encode_entry
from clearguard.ledger.tables import LedgerCheckpointRow, LedgerEntryRow
from clearguard.ledger.witness_service import add_peer
from tests.integration.posture.env import AuditEnv

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def _server_cert(env: AuditEnv, not_before: datetime, not_after: datetime) -> None:
    files = TlsFiles.under(env.settings.keys_dir)
    ca_cert, ca_key = load_ca(files)
    key = _new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(ca_key, hashes.SHA256())
    )
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(_key_pem(key))


def test_certificate_expiry(env: AuditEnv) -> None:
    assert env.check("tls.certificate").status == "pass"
    files = TlsFiles.under(env.settings.keys_dir)
    cert, key = issue(*load_ca(files), "localhost", dns_names=("localhost",), days=10)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(_key_pem(key))
    assert env.check("tls.certificate").status == "warn"
    _server_cert(env, NOW - 30 * DAY, NOW - DAY)
    expired = env.check("tls.certificate")
    assert expired.status == "fail" and "expired" in expired.reason


def test_account_without_a_second_factor(env: AuditEnv) -> None:
    env.account("officer-new", "officer", mfa=False, office="GB000060")
    assert env.check("identity.mfa").status == "warn"
    env.account("officer-old", "officer", days_old=8, mfa=False, office="GB000060")
    result = env.check("identity.mfa")
    assert result.status == "fail" and "officer-old" in result.reason


def test_dormant_account_by_its_last_sign_in(env: AuditEnv) -> None:
    env.account("sleeper", "auditor", days_old=200)
    env.account("active", "auditor", days_old=200)
    factory = env.services.session_factory
    with transaction(factory) as session:
        ids = dict(session.execute(select(Account.username, Account.id)).tuples().all())
        for name, last in (("sleeper", NOW - 100 * DAY), ("active", NOW - 3 * DAY)):
            session.add(AuthSession(account_id=ids[name], created_at=last, mfa_at=last, expires_at=last + DAY / 2))
    result = env.check("identity.dormant")
    assert result.status == "fail" and "sleeper" in result.reason and "active" not in result.reason
    with transaction(factory) as session:
        session.execute(update(Account).where(Account.username == "sleeper").values(disabled=True))
    assert env.check("identity.dormant").status == "pass"


def test_demo_accounts_and_missing_secret_fail_in_prod(env: AuditEnv) -> None:
    with transaction(env.services.session_factory) as session:
        create_demo_accounts(
            session, settings=env.settings, passwords=env.services.identity.passwords,
            totp_secrets=env.services.identity.totp_secrets,
        )  # fmt: skip
    env.posture.sources.settings = env.settings.model_copy(update={"env": "dev"})
    assert env.check("identity.privileged").status == "pass"  # demo accounts belong in dev
    env.posture.sources.settings = env.settings.model_copy(update={"env": "prod", "secret_key": None})
    privileged = env.check("identity.privileged")
    assert privileged.status == "fail" and "demo-admin" in privileged.reason
    config = env.check("config.production")
    assert config.status == "fail" and "secret_key" in config.reason


def test_key_encryption_key_past_its_rotation(env: AuditEnv) -> None:
    assert env.services.crypto is not None
    with transaction(env.services.session_factory) as session:
        env.services.crypto.key_for_party(session, "eori:GB123456789000")
    assert env.check("crypto.key_rotation").status == "pass"
    with transaction(env.services.session_factory) as session:
        session.execute(update(KekVersion).values(created_at=NOW - 400 * DAY))
    result = env.check("crypto.key_rotation")
    assert result.status == "fail" and "keys rotate" in result.reason


def test_share_store_lost_share_and_unreachable(env: AuditEnv) -> None:
    crypto = env.services.crypto
    assert crypto is not None
    with transaction(env.services.session_factory) as session:
        crypto.key_for_party(session, "eori:GB123456789000")
        crypto.key_for_party(session, "eori:GB987654321000")
    assert env.check("crypto.share_store").status == "pass"
    with env.services.session_factory() as session:
        uid = session.execute(select(DataKey.uid).where(DataKey.wrapped.is_not(None)).limit(1)).scalar_one()
    crypto.shares.destroy(uid)
    lost = env.check("crypto.share_store")
    assert lost.status == "fail" and "no share" in lost.reason
    with crypto.shares.engine.begin() as conn:
        conn.execute(text("DROP TABLE crypto_party_shares"))
    gone = env.check("crypto.share_store")
    assert gone.status == "fail" and "unreachable" in gone.reason
    share_metadata.create_all(crypto.shares.engine)  # for the key service's own shutdown


def _checkpoint(env: AuditEnv, n: int = 3) -> None:
    ledger, factory = env.services.ledger, env.services.session_factory
    with transaction(factory) as session:
        for i in range(n):
            ledger.append(session, encode_entry("test.posture", f"r{i}", os.urandom(32)))
    ledger.integrate_all(factory)


def test_ledger_never_verified_or_tampered(env: AuditEnv) -> None:
    _checkpoint(env)
    factory = env.services.session_factory
    with transaction(factory) as session:
        session.execute(update(LedgerCheckpointRow).values(created_at=NOW - 3 * DAY))
    never = env.check("ledger.verification")
    assert never.status == "fail" and "never verified" in never.reason
    with factory() as session:
        report, _ = env.services.ledger.verify_recorded(session)
    assert report.ok and env.check("ledger.verification").status == "pass"
    with transaction(factory) as session:
        session.execute(update(LedgerEntryRow).where(LedgerEntryRow.idx == 1).values(data=b"tampered"))
    with factory() as session:
        report, _ = env.services.ledger.verify_recorded(session)
    assert not report.ok
    failed = env.check("ledger.verification")
    assert failed.status == "fail" and "FAILED" in failed.reason


def test_partner_witness_that_stopped_cosigning(env: AuditEnv) -> None:
    assert env.check("ledger.witnesses").status == "pass"
    witness = env.services.witness
    assert witness is not None
    _checkpoint(env)
    with transaction(env.services.session_factory) as session:
        add_peer(session, witness.vkey(), "https://partner.example")
    assert env.check("ledger.witnesses").status == "pass"  # the checkpoint is seconds old
    with transaction(env.services.session_factory) as session:
        session.execute(update(LedgerCheckpointRow).values(created_at=NOW - 2 * DAY))
    result = env.check("ledger.witnesses")
    assert result.status == "fail" and "cosigned size 0" in result.reason


def test_records_past_their_disposal_date(env: AuditEnv) -> None:
    with transaction(env.services.session_factory) as session:
        env.services.audit.record(
            session,
            NewAuditEvent(actor="admin-1", role="admin", action="auth.password", record_type="account",
                          record_id="admin-1", party=None, source="10.0.0.1"),
        )  # fmt: skip
    assert env.check("retention.backlog").status == "pass"
    with env.services.engine.begin() as conn:  # eight years ago: past the 7-year audit retention and its grace
        conn.execute(text("UPDATE detection_activity SET at = :at"), {"at": NOW - 8 * 366 * DAY})
    result = env.check("retention.backlog")
    assert result.status == "fail" and "activity events" in result.reason


def test_serious_alert_left_open(env: AuditEnv) -> None:
    def alert(at: datetime, incident: str) -> None:
        finding = Finding(
            rule="brute_force", kind="brute_force", level="alert", severity="high", actors=("x",),
            sources=("10.0.0.1",), first_at=at, at=at, incident=incident, explanation="test",
        )  # fmt: skip
        with transaction(env.services.session_factory) as session:
            detection_alerts.store_finding(session, finding)

    assert env.check("detection.open_alerts").status == "pass"
    alert(NOW - DAY / 4, "i-1")
    assert env.check("detection.open_alerts").status == "warn"
    alert(NOW - 2 * DAY, "i-2")
    assert env.check("detection.open_alerts").status == "fail"


def test_privileged_staff_without_training(env: AuditEnv) -> None:
    env.account("dpo-1", "dpo")
    result = env.check("training.privileged")
    assert result.status == "fail" and "dpo-1" in result.reason and "missing" in result.reason


def test_files_open_to_others_under_var(env: AuditEnv) -> None:
    assert env.check("files.permissions").status == "pass"
    tls = TlsFiles.under(env.settings.keys_dir)
    os.chmod(tls.ca_cert, 0o644)
    result = env.check("files.permissions")
    assert result.status == "fail" and "ca.pem 0644" in result.reason
    os.chmod(tls.ca_cert, 0o600)
    keys = [p for p in env.settings.keys_dir.iterdir() if p.is_file() and p.suffix == ".key"]
    os.chmod(keys[0], 0o400)
    loose = env.check("files.permissions")
    assert loose.status == "fail" and "keys must be 0600" in loose.reason
