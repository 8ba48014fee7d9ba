"""IdentityService: the one way in for logins, second factors, tokens and step-up.

Login is two steps. `login` checks the password and answers an `mfa_token` (never tokens); a second
factor (TOTP, passkey or recovery code) presented with that `mfa_token` opens a session. Failures of
either step count against the pair (username, source address), the source address, and softly
against the account (see throttle_policy: nobody can lock anyone else out).

Single use holds under any concurrency: every secret is spent by a conditional UPDATE whose WHERE
requires it unspent (a TOTP step later than the last one, an unused recovery code, an unused
mfa_token), and the rowcount says who won; each attempt on an mfa_token is reserved against its
failure cap before the code is looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Result, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.mandates import current_mandates
from clearguard.access.principal import Principal
from clearguard.access.roles import Role
from clearguard.audit import NewAuditEvent
from clearguard.config import Settings
from clearguard.errors import Forbidden, InputError, NotFound
from clearguard.identity import passkeys, sessions, totp
from clearguard.identity.accounts import (
    AccountActivity,
    account_activity,
    disable_account,
    enable_account,
    get_account,
    has_mfa,
    is_locked,
    list_accounts,
    normalize_username,
    reset_mfa,
    revoke_all_sessions,
)
from clearguard.identity.clock import Clock, SystemClock
from clearguard.identity.errors import (
    Busy,
    InvalidCredentials,
    InvalidMfa,
    InvalidToken,
    MfaAttemptsExhausted,
    MfaStateError,
    TooManyAttempts,
)
from clearguard.identity.passwords import Argon2Params, PasswordService
from clearguard.identity.retrying import in_transaction
from clearguard.identity.sessions import TokenLifetimes, TokenPair
from clearguard.identity.tables import (
    Account,
    AuthSession,
    MfaChallenge,
    RecoveryCode,
    RefreshToken,
    WebAuthnCredential,
)
from clearguard.identity.throttle import Attempt, DatabaseThrottle, RedisThrottle, Throttle
from clearguard.identity.throttle_policy import ACCOUNT_POLICY, ADDRESS_POLICY, PAIR_POLICY, STEP_UP_POLICY
from clearguard.identity.tokens import digest, new_recovery_codes, new_token, recovery_digest
from clearguard.identity.totp_secrets import SecretSealer, TotpSecrets

MFA_PREFIX = "cgm_"
# Wrong second factors one mfa_token survives before the password must be given again.
MFA_TOKEN_MAX_FAILURES = 5

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Keys:
    """The throttle's keys for one attempt (see throttle_policy)."""

    account: str
    address: str
    pair: str


def _rowcount(result: Result[Any]) -> int:
    """Rows a conditional UPDATE changed: 1 means this caller won the row."""
    return int(result.rowcount)  # type: ignore[attr-defined]


# What a session's MFA proof reads as once a detection response has withdrawn it: older than any
# step-up window, so every step-up permission asks for a fresh second factor.
_NO_MFA_PROOF = datetime(2000, 1, 1, tzinfo=UTC)


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


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """An account as an administrator sees it: never a secret, only whether a second factor exists."""

    username: str
    role: str
    party: str | None
    office: str | None
    disabled: bool
    locked: bool
    mfa: bool
    mandates: tuple[str, ...]  # traders' EORIs a broker holds a current mandate of


# What an administrator may do to an account from the portal, and the audit action of each.
ADMIN_ACTIONS: dict[str, str] = {
    "disable": "account.disable",
    "enable": "account.enable",
    "reset-mfa": "account.reset-mfa",
}


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

    # ---------------------------------------------------------------- throttling (throttle_policy)
    @staticmethod
    def _keys(username: str, source: str) -> _Keys:
        # Digests: bounded length, and neither the attempted name nor the address is kept in clear.
        account = normalize_username(username)[:128]
        return _Keys(
            account="acct:" + digest("acct:" + account)[:40],
            address="addr:" + digest("addr:" + source[:64])[:40],
            pair="pair:" + digest(f"pair:{account}\x00{source[:64]}")[:40],
        )

    def _admit(self, username: str, source: str) -> list[Attempt]:
        """Reserve this attempt on the source address and on the (account, source) pair, or answer
        429 at once. Failures on the account made from other sources do not hold this one back."""
        keys = self._keys(username, source)
        taken: list[Attempt] = []
        for key, policy in ((keys.address, ADDRESS_POLICY), (keys.pair, PAIR_POLICY)):
            attempt = self.throttle.attempt(key, policy)
            if attempt.retry_after:
                self._refund(taken)
                raise TooManyAttempts(attempt.retry_after)
            taken.append(attempt)
        return taken

    def _refund(self, taken: list[Attempt]) -> None:
        for attempt in taken:
            self.throttle.refund(attempt)

    def _failed(self, username: str, source: str) -> None:
        """A reserved attempt failed (it stays counted): add it to the account's soft count, whose
        slowdown then applies to this source alone, on top of its own pair's wait."""
        keys = self._keys(username, source)
        wait = ACCOUNT_POLICY.wait_after(self.throttle.count_failure(keys.account, ACCOUNT_POLICY))
        if wait:
            self.throttle.penalise(keys.pair, wait)

    def _succeeded(self, username: str, source: str, taken: list[Attempt]) -> None:
        """A complete login: the pair's count is cleared and the address's reservation refunded.
        Outside any open transaction: on SQLite a second writer would wait for the first. The
        address keeps its other failures, so an attacker cannot launder them with an account of
        their own; the account's soft count runs out with its window."""
        keys = self._keys(username, source)
        self._refund([a for a in taken if a.key != keys.pair])
        self.throttle.reset(keys.pair)

    # ---------------------------------------------------------------- step 1: password
    def login(self, username: str, password: str, *, source: str) -> LoginStep:
        taken = self._admit(username, source)
        now = self.clock.now()
        try:
            with self.factory() as session:
                account = session.scalars(
                    select(Account).where(Account.username == normalize_username(username))
                ).one_or_none()
                usable = account is not None and not account.disabled and not is_locked(account, now)
                # Unknown and disabled accounts are verified against a dummy hash: same cost, same answer.
                ok = self.passwords.verify(account.password_hash if usable and account else None, password)
        except Busy:
            self._refund(taken)  # not checked: hashing capacity was used up (503, retry shortly)
            raise
        # Parameters changed since this hash was made: rehash now that the password is known good
        # (and before the write transaction, which must stay short).
        new_hash = (
            self.passwords.hash(password)
            if ok and account and self.passwords.needs_rehash(account.password_hash)
            else None
        )
        if not ok or account is None:
            self._failed(username, source)
            with self._tx() as session:
                # The attempted name is kept for the security log (it is not a secret).
                attempted = {"username": normalize_username(username)[:64]}
                self._event(session, None, "auth.login", source, outcome="denied", details=attempted)
            raise InvalidCredentials("invalid username or password")
        # The password was right: this attempt does not count; the second factor is its own attempt.
        self._refund(taken)
        token = new_token(MFA_PREFIX)
        account_id = account.id

        def open_challenge(session: Session) -> tuple[bool, tuple[str, ...]]:
            account = session.get(Account, account_id)
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
            return enrolled, methods

        enrolled, methods = in_transaction(self.factory, open_challenge)
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

    # ---------------------------------------------------------------- step 2: a second factor
    def _challenge(self, session: Session, mfa_token: str) -> tuple[MfaChallenge, Account]:
        """A live challenge and its account, for the steps that check no secret (options, enrolment)."""
        now = self.clock.now()
        challenge = session.scalars(
            select(MfaChallenge).where(MfaChallenge.token_hash == digest(mfa_token))
        ).one_or_none()
        if challenge is None or challenge.used_at is not None or challenge.expires_at <= now:
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        if challenge.failures >= MFA_TOKEN_MAX_FAILURES:
            raise MfaAttemptsExhausted("mfa_token has had too many wrong codes: log in again")
        account = session.get(Account, challenge.account_id)
        if account is None or account.disabled or is_locked(account, self.clock.now()):
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        return challenge, account

    def _token_owner(self, mfa_token: str) -> str:
        """The username behind an mfa_token (for the throttle keys), or InvalidToken."""
        with self.factory() as session:
            username = session.scalar(
                select(Account.username)
                .join(MfaChallenge, MfaChallenge.account_id == Account.id)
                .where(MfaChallenge.token_hash == digest(mfa_token))
            )
        if username is None:
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        return username

    def _reserve(self, mfa_token: str) -> int:
        """Count this attempt on the mfa_token before any code is checked, atomically against the
        cap (a conditional UPDATE); the challenge's id. Past the cap the code is never looked at."""
        now = self.clock.now()
        with self._tx() as session:
            reserved = session.scalar(
                update(MfaChallenge)
                .where(
                    MfaChallenge.token_hash == digest(mfa_token),
                    MfaChallenge.used_at.is_(None),
                    MfaChallenge.expires_at > now,
                    MfaChallenge.failures < MFA_TOKEN_MAX_FAILURES,
                )
                .values(failures=MfaChallenge.failures + 1)
                .returning(MfaChallenge.id)
            )
            if reserved is not None:
                return int(reserved)
            self._challenge(session, mfa_token)  # raises the reason
        raise InvalidToken("mfa_token unknown, used or expired: log in again")

    def _locked(self, session: Session, challenge_id: int) -> tuple[MfaChallenge, Account]:
        """The challenge and its account, row-locked in this order (every flow takes locks in the
        same order: challenge, account, session), and still live."""
        challenge = session.scalars(
            select(MfaChallenge).where(MfaChallenge.id == challenge_id).with_for_update()
        ).one_or_none()
        if challenge is None or challenge.used_at is not None or challenge.expires_at <= self.clock.now():
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        account = session.scalars(
            select(Account).where(Account.id == challenge.account_id).with_for_update()
        ).one_or_none()
        if account is None or account.disabled or is_locked(account, self.clock.now()):
            raise InvalidToken("mfa_token unknown, used or expired: log in again")
        return challenge, account

    def _second_factor(
        self,
        mfa_token: str,
        source: str,
        what: str,
        how: str,
        check: Callable[[Session, MfaChallenge, Account], R | None],
    ) -> tuple[TokenPair, R]:
        """The one path of every second factor after the password: 429 while the (account, source)
        pair waits; the attempt reserved on the mfa_token; `check` (None: refused; it spends what it
        accepts with conditional updates) and the mfa_token spent with a conditional update, in one
        transaction; every reserved attempt that does not open a session counted and audited."""
        username = self._token_owner(mfa_token)
        taken = self._admit(username, source)
        try:
            challenge_id = self._reserve(mfa_token)
        except (InvalidToken, MfaStateError):
            self._refund(taken)  # no code was checked
            raise

        def work(session: Session) -> tuple[TokenPair, R] | None:
            challenge, account = self._locked(session, challenge_id)
            result = check(session, challenge, account)
            if result is None:
                return None
            now = self.clock.now()
            spent = session.execute(
                update(MfaChallenge)
                .where(MfaChallenge.id == challenge_id, MfaChallenge.used_at.is_(None))
                # The reservation made for this attempt is taken back: it did not fail.
                .values(used_at=now, failures=MfaChallenge.failures - 1)
            )
            if _rowcount(spent) != 1:
                raise InvalidToken("mfa_token unknown, used or expired: log in again")
            pair = sessions.open_session(session, account, now=now, lifetimes=self.lifetimes)
            self._event(session, account, "auth.login", source, details={"mfa": how})
            return pair, result

        try:
            done = in_transaction(self.factory, work)
        except (InvalidToken, MfaStateError):
            self._mfa_failed(challenge_id, source, what)
            raise
        if done is None:
            self._mfa_failed(challenge_id, source, what)
            raise InvalidMfa(f"{what}: code refused")
        self._succeeded(username, source, taken)
        return done

    def _mfa_failed(self, challenge_id: int, source: str, what: str) -> None:
        """Audit a refused second factor (already counted on the mfa_token) and count it on the throttle."""
        with self._tx() as session:
            account_id = session.scalar(select(MfaChallenge.account_id).where(MfaChallenge.id == challenge_id))
            account = session.get(Account, account_id) if account_id is not None else None
            self._event(session, account, f"auth.{what}", source, outcome="denied")
            username = account.username if account else None
        if username is not None:
            self._failed(username, source)

    def _spend_step(self, session: Session, account: Account, seed: str, code: str, **values: Any) -> bool:
        """Accept a TOTP code once: its time step must be later than the last one spent, and the
        UPDATE that records it says so in its WHERE, so that of concurrent uses only one wins."""
        step = totp.match_step(seed, code, self.clock.now(), last_step=account.totp_last_step)
        if step is None:
            return False
        spent = session.execute(
            update(Account)
            .where(
                Account.id == account.id,
                (Account.totp_last_step.is_(None)) | (Account.totp_last_step < step),
            )
            .values(totp_last_step=step, **values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(spent) == 1

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
        def check(session: Session, challenge: MfaChallenge, account: Account) -> list[str] | None:
            seed = None if account.totp_confirmed else self.totp_secrets.seed(account)
            if seed is None:
                raise MfaStateError("totp: no pending enrolment; call /mfa/totp/enroll first")
            if not self._spend_step(session, account, seed, code, totp_confirmed=True):
                return None
            return self._replace_recovery_codes(session, account)

        pair, codes = self._second_factor(mfa_token, source, "totp", "totp-enrol", check)
        return Confirmed(pair, codes)

    def totp_login(self, mfa_token: str, code: str, *, source: str) -> TokenPair:
        def check(session: Session, challenge: MfaChallenge, account: Account) -> bool | None:
            seed = self.totp_secrets.seed(account) if account.totp_confirmed else None
            if seed is None:
                raise MfaStateError("totp: not enrolled for this account")
            return True if self._spend_step(session, account, seed, code) else None

        return self._second_factor(mfa_token, source, "totp", "totp", check)[0]

    # ---------------------------------------------------------------- recovery codes
    def _replace_recovery_codes(self, session: Session, account: Account) -> list[str]:
        session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        codes = new_recovery_codes()
        session.add_all(RecoveryCode(account_id=account.id, code_hash=recovery_digest(c)) for c in codes)
        return codes

    def recovery_login(self, mfa_token: str, code: str, *, source: str) -> TokenPair:
        def check(session: Session, challenge: MfaChallenge, account: Account) -> bool | None:
            # Spent by the UPDATE whose WHERE requires it unspent: of concurrent uses one wins.
            spent = session.execute(
                update(RecoveryCode)
                .where(
                    RecoveryCode.account_id == account.id,
                    RecoveryCode.code_hash == recovery_digest(code),
                    RecoveryCode.used_at.is_(None),
                )
                .values(used_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )
            return True if _rowcount(spent) == 1 else None

        return self._second_factor(mfa_token, source, "recovery", "recovery-code", check)[0]

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
        def check(session: Session, challenge: MfaChallenge, account: Account) -> bool | None:
            expected = challenge.webauthn_challenge
            if expected is None:
                raise MfaStateError("webauthn: request options first")
            challenge.webauthn_challenge = None  # one assertion per challenge (kept when refused)
            try:
                self._verify_assertion(session, account, credential, expected)
            except InvalidMfa:
                return None
            return True

        return self._second_factor(mfa_token, source, "webauthn", "webauthn", check)[0]

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
        def check(session: Session, challenge: MfaChallenge, account: Account) -> list[str] | None:
            if has_mfa(session, account):
                raise MfaStateError("webauthn: this account already has a second factor; log in with it")
            expected = challenge.webauthn_challenge
            if expected is None:
                raise MfaStateError("webauthn: request enrolment options first")
            challenge.webauthn_challenge = None  # one attestation per challenge (kept when refused)
            try:
                new = passkeys.verify_registration(self.rp, credential, expected)
            except InvalidMfa:
                return None
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
            return self._replace_recovery_codes(session, account)

        pair, codes = self._second_factor(mfa_token, source, "webauthn", "webauthn-enrol", check)
        return Confirmed(pair, codes)

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

    def _session_rows(
        self, session: Session, principal: Principal, *, lock: bool = False
    ) -> tuple[Account, AuthSession]:
        # Locks in the one order: account, then session.
        query = select(Account).where(Account.id == principal.user_id)
        account = session.scalars(query.with_for_update() if lock else query).one_or_none()
        auth = None
        if principal.session_id is not None:
            own = select(AuthSession).where(AuthSession.id == principal.session_id)
            auth = session.scalars(own.with_for_update() if lock else own).one_or_none()
        if account is None or auth is None or auth.revoked_at is not None:
            raise InvalidToken("session revoked")
        return account, auth

    # ---------------------------------------------------------------- step-up (inside a session)
    def _step_up(
        self, principal: Principal, source: str, what: str, verify: Callable[[Session, Account, AuthSession], bool]
    ) -> None:
        """A second factor inside a valid session. Throttled on that session alone: failures made
        elsewhere (a password guesser, other sessions) never hold it back. Its own failures count
        there and in the account's soft count."""
        key = f"step:{principal.session_id}"
        attempt = self.throttle.attempt(key, STEP_UP_POLICY)
        if attempt.retry_after:
            raise TooManyAttempts(attempt.retry_after)

        def work(session: Session) -> bool:
            account, auth = self._session_rows(session, principal, lock=True)
            if not verify(session, account, auth):
                return False
            auth.mfa_at = self.clock.now()
            self._event(session, account, "auth.step-up", source, details={"mfa": what})
            return True

        try:
            ok = in_transaction(self.factory, work)
        except (InvalidToken, MfaStateError):
            self.throttle.refund(attempt)  # nothing was checked
            raise
        if ok:
            self.throttle.reset(key)
            return
        self.throttle.count_failure(self._keys(principal.username, source).account, ACCOUNT_POLICY)
        raise InvalidMfa(f"{what}: code refused" if what == "totp" else f"{what}: assertion refused")

    def step_up_totp(self, principal: Principal, code: str, *, source: str) -> None:
        def verify(session: Session, account: Account, auth: AuthSession) -> bool:
            seed = self.totp_secrets.seed(account) if account.totp_confirmed else None
            if seed is None:
                raise MfaStateError("totp: not enrolled for this account")
            return self._spend_step(session, account, seed, code)

        self._step_up(principal, source, "totp", verify)

    def step_up_webauthn_options(self, principal: Principal) -> dict[str, Any]:
        with self._tx() as session:
            account, auth = self._session_rows(session, principal)
            options, raw = self._passkey_challenge(session, account)
            auth.webauthn_challenge = raw
            return options

    def step_up_webauthn(self, principal: Principal, credential: dict[str, Any], *, source: str) -> None:
        def verify(session: Session, account: Account, auth: AuthSession) -> bool:
            expected = auth.webauthn_challenge
            if expected is None:
                raise MfaStateError("webauthn: request options first")
            auth.webauthn_challenge = None  # one assertion per challenge (kept when refused)
            try:
                self._verify_assertion(session, account, credential, expected)
            except InvalidMfa:
                return False
            return True

        self._step_up(principal, source, "webauthn", verify)

    # ---------------------------------------------------------------- tokens
    def refresh(self, refresh_token: str, *, source: str) -> TokenPair:
        now = self.clock.now()
        try:
            with self._tx() as session:
                pair = sessions.rotate(session, refresh_token, now=now, lifetimes=self.lifetimes)
                row = session.get(RefreshToken, digest(refresh_token))
                auth = session.get(AuthSession, row.session_id) if row is not None else None
                self._event(session, session.get(Account, auth.account_id) if auth else None, "auth.refresh", source)
                return pair
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

    def account_exists(self, session: Session, username: str) -> bool:
        """Whether `username` names an account, read in the caller's transaction (an observer of the
        audit trail asks while the audited action's transaction is open)."""
        try:
            get_account(session, username[:128])
        except NotFound:
            return False
        return True

    def account_activity(self) -> list[AccountActivity]:
        """Every account's role, second factors and last sign-in (the security self-audit)."""
        with self.read_factory() as session:
            return account_activity(session)

    def account_principal(self, username: str) -> Principal:
        """The principal of an account as a local operator command acts for it (`--officer NAME`):
        its role, party and office, no session. NotFound for an unknown account, Forbidden for a
        disabled one."""
        with self.read_factory() as session:
            account = get_account(session, username)
            if account.disabled:
                raise Forbidden(f"username: account {account.username!r} is disabled", field="username")
            return Principal(
                user_id=account.id,
                username=account.username,
                role=Role(account.role),
                party_eori=account.party_eori,
                office=account.office,
            )

    def accounts_in_roles(self, roles: Collection[Role]) -> list[Principal]:
        """The enabled accounts holding one of `roles`, by username, as principals without a session
        (training's reminders and gate report read them)."""
        wanted = {Role(r).value for r in roles}
        with self.read_factory() as session:
            return [
                Principal(a.id, a.username, Role(a.role), party_eori=a.party_eori, office=a.office)
                for a in list_accounts(session)
                if a.role in wanted and not a.disabled
            ]

    def reload(self, principal: Principal) -> Principal:
        """Re-read a principal from its session (after a step-up, or for a long-lived caller)."""
        if principal.session_id is None:
            raise InvalidToken("no session")
        with self.read_factory() as session:
            return sessions.principal_for_session(session, principal.session_id, now=self.clock.now())

    # ---------------------------------------------------------------- responses (detection)
    def _respond(
        self, username: str, action: str, by: str, reason: str, apply: Callable[[Session, Account], Any]
    ) -> int:
        """One response to a security alert on `username`, with its audit event (and so its ledger
        entry) in the same transaction. NotFound for an unknown account."""
        with self._tx() as session:
            account = get_account(session, username)
            affected = int(apply(session, account))
            if self.events is not None:
                self.events.record(
                    session,
                    NewAuditEvent(
                        actor=by, role="security", action=action, record_type="account", record_id=account.username,
                        party=None, source=None, justification=reason, details={"affected": affected},
                    ),
                )  # fmt: skip
            return affected

    def revoke_sessions(self, username: str, *, by: str, reason: str) -> int:
        """Revokes every live session of the account (its access and refresh tokens die with them)."""
        now = self.clock.now()
        return self._respond(
            username, "account.revoke-sessions", by, reason,
            lambda session, account: revoke_all_sessions(session, account.id, now=now, reason="security"),
        )  # fmt: skip

    def require_step_up(self, username: str, *, by: str, reason: str) -> int:
        """The account's live sessions lose their MFA proof: every step-up permission asks for a fresh
        second factor before it is used again."""

        def clear(session: Session, account: Account) -> int:
            result = session.execute(
                update(AuthSession)
                .where(AuthSession.account_id == account.id, AuthSession.revoked_at.is_(None))
                .values(mfa_at=_NO_MFA_PROOF)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

        return self._respond(username, "account.require-step-up", by, reason, clear)

    def lock(self, username: str, *, seconds: int, by: str, reason: str) -> int:
        """Locks the account for `seconds` (no login, no second factor) and revokes its sessions."""
        now = self.clock.now()

        def apply(session: Session, account: Account) -> int:
            account.locked_until = now + timedelta(seconds=seconds)
            return revoke_all_sessions(session, account.id, now=now, reason="locked")

        return self._respond(username, "account.lock", by, reason, apply)

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

    # ---------------------------------------------------------------- administration (portal)
    def account_summaries(self) -> list[AccountSummary]:
        """Every account with its role, party, office, MFA state and current mandates (`users list`)."""
        now = self.clock.now()
        with self.read_factory() as session:
            return [
                AccountSummary(
                    a.username, a.role, a.party_eori, a.office, a.disabled, is_locked(a, now), has_mfa(session, a),
                    tuple(m.trader_eori for m in current_mandates(session, a.id, now.date()))
                    if a.role == Role.BROKER.value else (),
                )
                for a in list_accounts(session)
            ]  # fmt: skip

    def administer(self, username: str, action: str, *, by: Principal, source: str) -> AccountSummary:
        """Disable, enable or reset the second factors of an account, with its audit event in the same
        transaction (the actions `clearguard users ...` records). An administrator never acts on their
        own account: another one must."""
        audit_action = ADMIN_ACTIONS.get(action)
        if audit_action is None:
            raise InputError(f"action: one of {', '.join(ADMIN_ACTIONS)}", field="action")
        if normalize_username(username) == normalize_username(by.username):
            raise Forbidden("username: an administrator does not act on their own account", field="username")
        now = self.clock.now()
        with self._tx() as session:
            if action == "disable":
                account = disable_account(session, username, now=now)
            elif action == "enable":
                account = enable_account(session, username)
            else:
                account = reset_mfa(session, username, now=now)
            if self.events is not None:
                self.events.record(
                    session,
                    NewAuditEvent(
                        actor=by.username, role=by.role.value, action=audit_action, record_type="account",
                        record_id=account.username, party=None, source=source,
                    ),
                )  # fmt: skip
            return AccountSummary(
                account.username, account.role, account.party_eori, account.office, account.disabled,
                is_locked(account, now), has_mfa(session, account), (),
            )  # fmt: skip
