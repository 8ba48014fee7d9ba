"""Identity tables: accounts, authenticators, MFA challenges, sessions, tokens and failure counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime


class Account(Base):
    __tablename__ = "identity_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    party_eori: Mapped[str | None] = mapped_column(String(17), index=True)
    office: Mapped[str | None] = mapped_column(String(8))
    password_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Locked by a detection response until then (no login; its sessions were revoked when locked).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # TOTP seed, sealed (totp_secrets: never in clear). Confirmed only after the first valid code;
    # last_step blocks replay.
    totp_secret: Mapped[str | None] = mapped_column(String(128))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    webauthn_user_handle: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    __tablename__ = "identity_recovery_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_accounts.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebAuthnCredential(Base):
    __tablename__ = "identity_webauthn_credentials"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_accounts.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64), default="passkey")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MfaChallenge(Base):
    """The state between a correct password and a completed second factor (the `mfa_token`)."""

    __tablename__ = "identity_mfa_challenges"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_accounts.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Pending WebAuthn challenge (registration or authentication) bound to this login.
    webauthn_challenge: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthSession(Base):
    """A login: one family of refresh tokens. Revoking it ends every token issued from it."""

    __tablename__ = "identity_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mfa_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # Pending WebAuthn challenge for registration or step-up inside an authenticated session.
    webauthn_challenge: Mapped[bytes | None] = mapped_column(LargeBinary(64))


class AccessToken(Base):
    __tablename__ = "identity_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("identity_sessions.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RefreshToken(Base):
    __tablename__ = "identity_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("identity_sessions.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when rotated; presenting a used token again is reuse and revokes the family.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailures(Base):
    """Failure counter per key (`acct:<username>` or `addr:<ip>`), the database throttle backend."""

    __tablename__ = "identity_login_failures"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
