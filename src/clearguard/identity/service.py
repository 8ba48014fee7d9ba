"""IdentityService: the one way in for logins, second factors, tokens and step-up.

Login is two steps. `login` checks the password and answers an `mfa_token` (never tokens); a second
factor (TOTP, passkey or recovery code) presented with that `mfa_token` opens a session. Failures of
either step count against the username and the source address (see throttle_policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.principal import Principal
from clearguard.audit import NewAuditEvent
from clearguard.config import Settings
from clearguard.identity import passkeys, sessions, totp
from clearguard.identity.accounts import has_mfa, normalize_username
from clearguard.identity.clock import Clock, SystemClock
from clearguard.identity.errors import (
    InvalidCredentials,
    InvalidMfa,
    InvalidToken,
    MfaStateError,
    TooManyAttempts,
)
from clearguard.identity.passwords import Argon2Params, PasswordService
from clearguard.identity.sessions import TokenLifetimes, TokenPair
from clearguard.identity.tables import (
    Account,
    AuthSession,
    MfaChallenge,
    RecoveryCode,
    RefreshToken,
    WebAuthnCredential,
)
from clearguard.identity.throttle import DatabaseThrottle, RedisThrottle, Throttle
from clearguard.identity.throttle_policy import ACCOUNT_POLICY, ADDRESS_POLICY
from clearguard.identity.tokens import digest, new_recovery_codes, new_token, recovery_digest
from clearguard.identity.totp_secrets import SecretSealer, TotpSecrets

MFA_PREFIX = "cgm_"
# Wrong second factors one mfa_token survives before the password must be given again.
MFA_TOKEN_MAX_FAILURES = 5


class AuthEvents(Protocol):
    """Where authentication events go: clearguard.audit.AuditService."""

    def record(self, session: Session, event: NewAuditEvent) -> object: ...


@dataclass(frozen=True, slots=True)
class LoginStep:
    mfa_token: str
    enrolment_required: bool
    methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Confirmed:
    tokens: TokenPair
    recovery_codes: list[str]


def passwords_from(settings: Settings) -> PasswordService:
    return PasswordService(
        Argon2Params(
            time_cost=settings.auth_argon2_time_cost,
            memory_cost_kib=settings.auth_argon2_memory_kib,
            parallelism=settings.auth_argon2_parallelism,
        ),
        concurrency=settings.auth_hash_concurrency,
    )


def throttle_from(settings: Settings, factory: sessionmaker[Session], clock: Clock) -> Throttle:
    if settings.redis_url:
        return RedisThrottle(settings.redis_url)
    return DatabaseThrottle(factory, clock)


class IdentityService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Clock | None = None,
        passwords: PasswordService | None = None,
        throttle: Throttle | None = None,
        secret_box: SecretSealer,
        events: AuthEvents | None = None,
        read_factory: sessionmaker[Session] | None = None,
    ) -> None:
        """`secret_box` seals TOTP seeds (clearguard.crypto.setup.build_secret_box in production)."""
        self.factory = factory
        self.totp_secrets = TotpSecrets(secret_box)
        # Token checks run on every request: on SQLite they must not wait for the write lock.
        self.read_factory = read_factory or factory
        # ...and they skip the Session altogether: one compiled statement on a pooled connection.
        self._principals = sessions.PrincipalLookup.of(self.read_factory)
        self.settings = settings
        self.clock = clock or SystemClock()
        self.passwords = passwords or passwords_from(settings)
        self.throttle = throttle or throttle_from(settings, factory, self.clock)
        self.events = events
        self.lifetimes = TokenLifetimes(
            access_seconds=settings.auth_access_token_seconds,
            refresh_seconds=settings.auth_refresh_token_seconds,
            session_seconds=settings.auth_session_seconds,
        )
        self.rp = passkeys.RelyingParty(
            rp_id=settings.auth_rp_id, name=settings.auth_issuer, origins=tuple(settings.auth_origins)
        )

    # ---------------------------------------------------------------- plumbing
    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self.factory() as session, session.begin():
            yield session

    def _event(self, session: Session, account: Account | None, action: str, source: str, **kw: Any) -> None:
        if self.events is None:
            return
        self.events.record(
            session,
            NewAuditEvent(
                actor=account.username if account else "anonymous",
                role=account.role if account else "anonymous",
                action=action,
                record_type="account",
                record_id=str(account.id) if account else "-",
                party=account.party_eori if account else None,
                source=source,
                **kw,
            ),
        )

    @staticmethod
    def _keys(username: str, source: str) -> tuple[str, str]:
        return "acct:" + normalize_username(username)[:128], "addr:" + source[:64]

    def _check_throttle(self, username: str, source: str) -> None:
        acct, addr = self._keys(username, source)
        wait = max(self.throttle.retry_after(acct, ACCOUNT_POLICY), self.throttle.retry_after(addr, ADDRESS_POLICY))
        if wait > 0:
            raise TooManyAttempts(wait)

    def _fail(self, username: str, source: str) -> None:
        acct, addr = self._keys(username, source)
        self.throttle.record_failure(acct, ACCOUNT_POLICY)
        self.throttle.record_failure(addr, ADDRESS_POLICY)

    # ---------------------------------------------------------------- step 1: password
    def login(self, username: str, password: str, *, source: str) -> LoginStep:
        self._check_throttle(username, source)
        now = self.clock.now()
        with self.factory() as session:
            account = session.scalars(
                select(Account).where(Account.username == normalize_username(username))
            ).one_or_none()
            usable = account is not None and not account.disabled
            # Unknown and disabled accounts are verified against a dummy hash: same cost, same answer.
            ok = self.passwords.verify(account.password_hash if usable and account else None, password)
        # Parameters changed since this hash was made: rehash now that the password is known good
        # (and before the write transaction, which must stay short).
        new_hash = (
            self.passwords.hash(password)
            if ok and account and self.passwords.needs_rehash(account.password_hash)
            else None
        )
        if not ok or account is None:
            self._fail(username, source)
            with self._tx() as session:
                # The attempted name is kept for the security log (it is not a secret).
                attempted = {"username": normalize_username(username)[:64]}
                self._event(session, None, "auth.login", source, outcome="denied", details=attempted)
            raise InvalidCredentials("invalid username or password")
        token = new_token(MFA_PREFIX)
        with self._tx() as session:
            account = session.get(Account, account.id)
            assert account is not None
            if new_hash is not None:
                account.password_hash = new_hash
            session.add(
                MfaChallenge(
                    token_hash=digest(token),
                    account_id=account.id,
                    expires_at=now + timedelta(seconds=self.settings.auth_mfa_token_seconds),
                    failures=0,
                )
            )
            enrolled = has_mfa(session, account)
            methods = self._methods(session, account)
            self._event(session, account, "auth.password", source)
        return LoginStep(mfa_token=token, enrolment_required=not enrolled, methods=methods)

    def _methods(self, session: Session, account: Account) -> tuple[str, ...]:
        methods = []
        if account.totp_confirmed:
            methods.append("totp")
        if session.scalar(select(WebAuthnCredential.id).where(WebAuthnCredential.account_id == account.id)):
            methods.append("webauthn")
        if session.scalar(
            select(RecoveryCode.id).where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
        ):
            methods.append("recovery")
        return tuple(methods) or ("totp-enrolment",)

    def _challenge(self, session: Session, mfa_token: str) -> tuple[MfaChallenge, Account]:
        now = self.clock.now()
        challenge = session.scalars(
            select(MfaChallenge).where(MfaChallenge.token_hash == digest(mfa_token))
        ).one_or_none()
        if challenge is None or challenge.used_at is not None or challenge.expires_at <= now:
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        if challenge.failures >= MFA_TOKEN_MAX_FAILURES:
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        account = session.get(Account, challenge.account_id)
        if account is None or account.disabled:
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        return challenge, account

    def _mfa_failed(self, challenge_id: int, account: Account, source: str, what: str) -> InvalidMfa:
        """Count a wrong second factor on the mfa_token and the throttle, in their own transaction."""
        with self._tx() as session:
            challenge = session.get(MfaChallenge, challenge_id)
            if challenge is not None:
                challenge.failures += 1
            self._event(session, account, f"auth.{what}", source, outcome="denied")
        self._fail(account.username, source)
        return InvalidMfa(f"{what}: code refused")

    def _finish(self, session: Session, challenge: MfaChallenge, account: Account, source: str, how: str) -> TokenPair:
        now = self.clock.now()
        challenge.used_at = now
        pair = sessions.open_session(session, account, now=now, lifetimes=self.lifetimes)
        self._event(session, account, "auth.login", source, details={"mfa": how})
        return pair

    def _succeeded(self, username: str, source: str) -> None:
        """Clear the account's failure count after a complete login. Outside any open transaction:
        on SQLite a second writer would wait for the first. The address count is left alone, so an
        attacker cannot launder one address's failures with an account of their own."""
        acct, _ = self._keys(username, source)
        self.throttle.reset(acct)

    # ---------------------------------------------------------------- TOTP
    def totp_enroll(self, mfa_token: str, *, source: str) -> totp.Enrolment:
        with self._tx() as session:
            _, account = self._challenge(session, mfa_token)
            if has_mfa(session, account):
                raise MfaStateError("totp: this account already has a second factor; log in with it")
            seed = self.totp_secrets.seed(account)
            if seed is None:
                seed = totp.new_secret()
                self.totp_secrets.put(account, seed)
            return totp.enrolment(seed, account=account.username, issuer=self.settings.auth_issuer)

    def totp_confirm(self, mfa_token: str, code: str, *, source: str) -> Confirmed:
        self._check_throttle_for_token(mfa_token, source)
        with self._tx() as session:
            challenge, account = self._challenge(session, mfa_token)
            seed = None if account.totp_confirmed else self.totp_secrets.seed(account)
            if seed is None:
                raise MfaStateError("totp: no pending enrolment; call /mfa/totp/enroll first")
            step = totp.match_step(seed, code, self.clock.now(), last_step=account.totp_last_step)
            if step is not None:
                account.totp_confirmed = True
                account.totp_last_step = step
                codes = self._replace_recovery_codes(session, account)
                confirmed = Confirmed(self._finish(session, challenge, account, source, "totp-enrol"), codes)
            failed = None if step is not None else (challenge.id, account)
        if failed is not None:
            raise self._mfa_failed(*failed, source, "totp")
        self._succeeded(account.username, source)
        return confirmed

    def totp_login(self, mfa_token: str, code: str, *, source: str) -> TokenPair:
        self._check_throttle_for_token(mfa_token, source)
        with self._tx() as session:
            challenge, account = self._challenge(session, mfa_token)
            seed = self.totp_secrets.seed(account) if account.totp_confirmed else None
            if seed is None:
                raise MfaStateError("totp: not enrolled for this account")
            step = totp.match_step(seed, code, self.clock.now(), last_step=account.totp_last_step)
            if step is not None:
                account.totp_last_step = step
                pair = self._finish(session, challenge, account, source, "totp")
            failed = None if step is not None else (challenge.id, account)
        if failed is not None:
            raise self._mfa_failed(*failed, source, "totp")
        self._succeeded(account.username, source)
        return pair

    def _check_throttle_for_token(self, mfa_token: str, source: str) -> None:
        with self.factory() as session:
            challenge = session.scalars(
                select(MfaChallenge).where(MfaChallenge.token_hash == digest(mfa_token))
            ).one_or_none()
            account = session.get(Account, challenge.account_id) if challenge else None
        if account is not None:
            self._check_throttle(account.username, source)

    # ---------------------------------------------------------------- recovery codes
    def _replace_recovery_codes(self, session: Session, account: Account) -> list[str]:
        for old in session.scalars(select(RecoveryCode).where(RecoveryCode.account_id == account.id)):
            session.delete(old)
        codes = new_recovery_codes()
        session.add_all(RecoveryCode(account_id=account.id, code_hash=recovery_digest(c)) for c in codes)
        return codes

    def recovery_login(self, mfa_token: str, code: str, *, source: str) -> TokenPair:
        self._check_throttle_for_token(mfa_token, source)
        with self._tx() as session:
            challenge, account = self._challenge(session, mfa_token)
            row = session.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.account_id == account.id,
                    RecoveryCode.code_hash == recovery_digest(code),
                    RecoveryCode.used_at.is_(None),
                )
            ).one_or_none()
            if row is not None:
                row.used_at = self.clock.now()
                pair = self._finish(session, challenge, account, source, "recovery-code")
            failed = None if row is not None else (challenge.id, account)
        if failed is not None:
            raise self._mfa_failed(*failed, source, "recovery")
        self._succeeded(account.username, source)
        return pair

    def regenerate_recovery_codes(self, principal: Principal) -> list[str]:
        with self._tx() as session:
            account = session.get(Account, principal.user_id)
            assert account is not None
            return self._replace_recovery_codes(session, account)

    # ---------------------------------------------------------------- WebAuthn
    def _passkey_challenge(self, session: Session, account: Account) -> tuple[dict[str, Any], bytes]:
        """Authentication options over the account's registered passkeys, and the raw challenge."""
        allowed = list(
            session.scalars(select(WebAuthnCredential.credential_id).where(WebAuthnCredential.account_id == account.id))
        )
        if not allowed:
            raise MfaStateError("webauthn: no passkey registered for this account")
        return passkeys.authentication_options(self.rp, allowed)

    def webauthn_login_options(self, mfa_token: str) -> dict[str, Any]:
        with self._tx() as session:
            challenge, account = self._challenge(session, mfa_token)
            options, raw = self._passkey_challenge(session, account)
            challenge.webauthn_challenge = raw
            return options

    def webauthn_login(self, mfa_token: str, credential: dict[str, Any], *, source: str) -> TokenPair:
        self._check_throttle_for_token(mfa_token, source)
        with self._tx() as session:
            challenge, account = self._challenge(session, mfa_token)
            expected = challenge.webauthn_challenge
            if expected is None:
                raise MfaStateError("webauthn: request options first")
            challenge.webauthn_challenge = None  # one assertion per challenge
            failed: tuple[int, Account] | None = None
            try:
                self._verify_assertion(session, account, credential, expected)
            except InvalidMfa:
                failed = (challenge.id, account)
            else:
                pair = self._finish(session, challenge, account, source, "webauthn")
        if failed is not None:
            raise self._mfa_failed(*failed, source, "webauthn")
        self._succeeded(account.username, source)
        return pair

    def webauthn_enroll_options(self, mfa_token: str) -> dict[str, Any]:
        """First second factor as a passkey (instead of TOTP), for an account without MFA yet."""
        with self._tx() as session:
            challenge, account = self._challenge(session, mfa_token)
            if has_mfa(session, account):
                raise MfaStateError("webauthn: this account already has a second factor; log in with it")
            assert account.webauthn_user_handle is not None
            options, raw = passkeys.registration_options(
                self.rp, username=account.username, user_handle=account.webauthn_user_handle, existing=[]
            )
            challenge.webauthn_challenge = raw
            return options

    def webauthn_enroll(self, mfa_token: str, credential: dict[str, Any], *, name: str, source: str) -> Confirmed:
        self._check_throttle_for_token(mfa_token, source)
        failed: tuple[int, Account] | None = None
        with self._tx() as session:
            challenge, account = self._challenge(session, mfa_token)
            if has_mfa(session, account):
                raise MfaStateError("webauthn: this account already has a second factor; log in with it")
            expected = challenge.webauthn_challenge
            if expected is None:
                raise MfaStateError("webauthn: request enrolment options first")
            challenge.webauthn_challenge = None  # one attestation per challenge
            try:
                new = passkeys.verify_registration(self.rp, credential, expected)
            except InvalidMfa:
                failed = (challenge.id, account)
            else:
                session.add(
                    WebAuthnCredential(
                        account_id=account.id,
                        credential_id=new.credential_id,
                        public_key=new.public_key,
                        sign_count=new.sign_count,
                        name=name[:64] or "passkey",
                        created_at=self.clock.now(),
                    )
                )
                codes = self._replace_recovery_codes(session, account)
                confirmed = Confirmed(self._finish(session, challenge, account, source, "webauthn-enrol"), codes)
        if failed is not None:
            raise self._mfa_failed(*failed, source, "webauthn")
        self._succeeded(account.username, source)
        return confirmed

    def _verify_assertion(
        self, session: Session, account: Account, credential: dict[str, Any], expected: bytes
    ) -> None:
        cred_id = passkeys.credential_id_of(credential)
        stored = session.scalars(
            select(WebAuthnCredential).where(
                WebAuthnCredential.account_id == account.id, WebAuthnCredential.credential_id == cred_id
            )
        ).one_or_none()
        if stored is None:
            raise InvalidMfa("webauthn: unknown credential")
        stored.sign_count = passkeys.verify_authentication(
            self.rp, credential, expected, public_key=stored.public_key, sign_count=stored.sign_count
        )

    def webauthn_register_options(self, principal: Principal) -> dict[str, Any]:
        with self._tx() as session:
            account, auth = self._session_rows(session, principal)
            existing = list(
                session.scalars(
                    select(WebAuthnCredential.credential_id).where(WebAuthnCredential.account_id == account.id)
                )
            )
            assert account.webauthn_user_handle is not None
            options, raw = passkeys.registration_options(
                self.rp,
                username=account.username,
                user_handle=account.webauthn_user_handle,
                existing=existing,
            )
            auth.webauthn_challenge = raw
            return options

    def webauthn_register(self, principal: Principal, credential: dict[str, Any], *, name: str) -> int:
        with self._tx() as session:
            account, auth = self._session_rows(session, principal)
            expected = auth.webauthn_challenge
            if expected is None:
                raise MfaStateError("webauthn: request registration options first")
            auth.webauthn_challenge = None
            new = passkeys.verify_registration(self.rp, credential, expected)
            row = WebAuthnCredential(
                account_id=account.id,
                credential_id=new.credential_id,
                public_key=new.public_key,
                sign_count=new.sign_count,
                name=name[:64] or "passkey",
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            return row.id

    def _session_rows(self, session: Session, principal: Principal) -> tuple[Account, AuthSession]:
        account = session.get(Account, principal.user_id)
        auth = session.get(AuthSession, principal.session_id) if principal.session_id else None
        if account is None or auth is None or auth.revoked_at is not None:
            raise InvalidToken("session revoked")
        return account, auth

    # ---------------------------------------------------------------- step-up (inside a session)
    def step_up_totp(self, principal: Principal, code: str, *, source: str) -> None:
        self._check_throttle(principal.username, source)
        with self._tx() as session:
            account, auth = self._session_rows(session, principal)
            seed = self.totp_secrets.seed(account) if account.totp_confirmed else None
            if seed is None:
                raise MfaStateError("totp: not enrolled for this account")
            now = self.clock.now()
            step = totp.match_step(seed, code, now, last_step=account.totp_last_step)
            if step is not None:
                account.totp_last_step = step
                auth.mfa_at = now
                self._event(session, account, "auth.step-up", source, details={"mfa": "totp"})
                return
        self._fail(principal.username, source)
        raise InvalidMfa("totp: code refused")

    def step_up_webauthn_options(self, principal: Principal) -> dict[str, Any]:
        with self._tx() as session:
            account, auth = self._session_rows(session, principal)
            options, raw = self._passkey_challenge(session, account)
            auth.webauthn_challenge = raw
            return options

    def step_up_webauthn(self, principal: Principal, credential: dict[str, Any], *, source: str) -> None:
        self._check_throttle(principal.username, source)
        with self._tx() as session:
            account, auth = self._session_rows(session, principal)
            expected = auth.webauthn_challenge
            if expected is None:
                raise MfaStateError("webauthn: request options first")
            auth.webauthn_challenge = None
            try:
                self._verify_assertion(session, account, credential, expected)
            except InvalidMfa:
                pass
            else:
                auth.mfa_at = self.clock.now()
                self._event(session, account, "auth.step-up", source, details={"mfa": "webauthn"})
                return
        self._fail(principal.username, source)
        raise InvalidMfa("webauthn: assertion refused")

    # ---------------------------------------------------------------- tokens
    def refresh(self, refresh_token: str, *, source: str) -> TokenPair:
        now = self.clock.now()
        try:
            with self._tx() as session:
                return sessions.rotate(session, refresh_token, now=now, lifetimes=self.lifetimes)
        except sessions.RefreshReuse:
            # The transaction above rolled back with the exception; revoke the family in a new one.
            with self._tx() as session:
                row = session.get(RefreshToken, digest(refresh_token))
                if row is not None:
                    sessions.revoke_session(session, row.session_id, now=now, reason="refresh-reuse")
                    auth = session.get(AuthSession, row.session_id)
                    account = session.get(Account, auth.account_id) if auth else None
                    self._event(session, account, "auth.refresh-reuse", source, outcome="denied")
            raise

    def authenticate(self, access_token: str) -> Principal:
        """The principal behind a bearer token, read afresh (no cache: revocation is immediate)."""
        if self._principals is not None:
            return self._principals.principal(access_token, now=self.clock.now())
        with self.read_factory() as session:
            return sessions.principal_for(session, access_token, now=self.clock.now())

    def reload(self, principal: Principal) -> Principal:
        """Re-read a principal from its session (after a step-up, or for a long-lived caller)."""
        if principal.session_id is None:
            raise InvalidToken("no session")
        with self.read_factory() as session:
            return sessions.principal_for_session(session, principal.session_id, now=self.clock.now())

    def logout(self, principal: Principal, *, everywhere: bool = False, source: str) -> None:
        from clearguard.identity.accounts import revoke_all_sessions

        now = self.clock.now()
        with self._tx() as session:
            if everywhere:
                revoke_all_sessions(session, principal.user_id, now=now, reason="logout-all")
            elif principal.session_id is not None:
                sessions.revoke_session(session, principal.session_id, now=now, reason="logout")
            account = session.get(Account, principal.user_id)
            self._event(session, account, "auth.logout", source)
