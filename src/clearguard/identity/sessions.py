"""Sessions and tokens: 15-minute opaque bearer access tokens, rotating refresh tokens in families.

Only SHA-256 digests are stored. A session is one refresh-token family; revoking it ends every access
and refresh token issued from it. A refresh token presented a second time means it was copied: the
whole family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, Select, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.mandates import current_mandates, mandate_reader
from clearguard.access.principal import MandateGrant, Principal
from clearguard.access.roles import Role
from clearguard.identity.errors import InvalidToken
from clearguard.identity.tables import AccessToken, Account, AuthSession, RefreshToken
from clearguard.identity.tokens import digest, new_token

ACCESS_PREFIX = "cga_"
REFRESH_PREFIX = "cgr_"


@dataclass(frozen=True, slots=True)
class TokenLifetimes:
    access_seconds: int = 900
    refresh_seconds: int = 8 * 3600
    session_seconds: int = 12 * 3600


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - OAuth token type, not a secret


def _mint(session: Session, auth: AuthSession, now: datetime, lifetimes: TokenLifetimes) -> TokenPair:
    access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
    # Neither token outlives its session.
    access_exp = min(now + timedelta(seconds=lifetimes.access_seconds), auth.expires_at)
    refresh_exp = min(now + timedelta(seconds=lifetimes.refresh_seconds), auth.expires_at)
    session.add(AccessToken(token_hash=digest(access), session_id=auth.id, expires_at=access_exp))
    session.add(RefreshToken(token_hash=digest(refresh), session_id=auth.id, expires_at=refresh_exp))
    return TokenPair(access, refresh, expires_in=int((access_exp - now).total_seconds()))


def open_session(session: Session, account: Account, *, now: datetime, lifetimes: TokenLifetimes) -> TokenPair:
    auth = AuthSession(
        account_id=account.id,
        created_at=now,
        mfa_at=now,
        expires_at=now + timedelta(seconds=lifetimes.session_seconds),
    )
    session.add(auth)
    session.flush()
    return _mint(session, auth, now, lifetimes)


def revoke_session(session: Session, session_id: int, *, now: datetime, reason: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


class RefreshReuse(InvalidToken):
    """A rotated refresh token came back: the caller revokes the family in a transaction that commits."""


def rotate(session: Session, refresh_token: str, *, now: datetime, lifetimes: TokenLifetimes) -> TokenPair:
    row = session.get(RefreshToken, digest(refresh_token))
    if row is None:
        raise InvalidToken("refresh token unknown or expired")
    auth = session.get(AuthSession, row.session_id)
    if auth is None or auth.revoked_at is not None or auth.expires_at <= now:
        raise InvalidToken("refresh token unknown or expired")
    # Conditional update: of two concurrent presentations only one can win the rotation.
    won = session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == row.token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if int(won.rowcount) != 1:  # type: ignore[attr-defined]
        raise RefreshReuse("refresh token reused: every token of this session is revoked")
    if row.expires_at <= now:
        raise InvalidToken("refresh token unknown or expired")
    account = session.get(Account, auth.account_id)
    if account is None or account.disabled:
        raise InvalidToken("refresh token unknown or expired")
    return _mint(session, auth, now, lifetimes)


# Columns only (no ORM entities): this runs on every authenticated request.
_PRINCIPAL_COLUMNS = (
    AuthSession.id,
    AuthSession.mfa_at,
    AuthSession.expires_at,
    AuthSession.revoked_at,
    Account.id,
    Account.username,
    Account.role,
    Account.party_eori,
    Account.office,
    Account.disabled,
)


def principal_for(session: Session, access_token: str, *, now: datetime) -> Principal:
    """The principal behind a bearer token, in one query (plus mandates for brokers)."""
    row = session.execute(
        select(AccessToken.expires_at, *_PRINCIPAL_COLUMNS)
        .join(AuthSession, AuthSession.id == AccessToken.session_id)
        .join(Account, Account.id == AuthSession.account_id)
        .where(AccessToken.token_hash == digest(access_token))
    ).one_or_none()
    if row is None or row[0] <= now:
        raise InvalidToken("access token unknown or expired")
    return _principal(tuple(row[1:]), now, partial(current_mandates, session))


def principal_for_session(session: Session, session_id: int, *, now: datetime) -> Principal:
    """The principal of a live session, re-read (fresh role, mandates and MFA time)."""
    row = session.execute(
        select(*_PRINCIPAL_COLUMNS)
        .join(Account, Account.id == AuthSession.account_id)
        .where(AuthSession.id == session_id)
    ).one_or_none()
    if row is None:
        raise InvalidToken("session unknown")
    return _principal(tuple(row), now, partial(current_mandates, session))


def _principal(
    row: tuple[Any, ...], now: datetime, mandates: Callable[[int, date], tuple[MandateGrant, ...]]
) -> Principal:
    session_id, mfa_at, session_expires, revoked_at, user_id, username, role_name, party, office, disabled = row
    if revoked_at is not None or session_expires <= now or disabled:
        raise InvalidToken("access token unknown or expired")
    role = Role(role_name)
    return Principal(
        user_id=user_id,
        username=username,
        role=role,
        party_eori=party,
        office=office,
        mandates=mandates(user_id, now.date()) if role is Role.BROKER else (),
        mfa_at=mfa_at,
        session_id=session_id,
    )


def mark_mfa(session: Session, session_id: int, *, now: datetime) -> None:
    session.execute(update(AuthSession).where(AuthSession.id == session_id).values(mfa_at=now))


# ----------------------------------------------------------------------------- the per-request check
class _DriverQuery:
    """One SELECT compiled once for an engine's dialect and run straight on a pooled DBAPI
    connection, with the columns' own bind and result processors (what SQLAlchemy would apply).

    The bearer-token check runs on every request: through a Session it costs about 0.5 ms of
    Python (session, ORM compile-cache lookup, BEGIN, result objects, ROLLBACK); this way about
    20 us on SQLite, the same single indexed statement, read fresh every time."""

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self._engine = engine
        self._sql = compiled.string
        self._positional = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._binds: dict[str, Callable[[Any], Any] | None] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        self._results: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
        ]

    def _params(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processed = {}
        for name, value in values.items():
            process = self._binds[name]
            processed[name] = process(value) if process is not None and value is not None else value
        if self._positional is not None:
            return tuple(processed[name] for name in self._positional)
        return processed

    def _row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if p is None else p(value) for p, value in zip(self._results, raw, strict=True))

    def all(self, **values: Any) -> list[tuple[Any, ...]]:
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql, self._params(values))
                rows = cursor.fetchall()
            finally:
                cursor.close()
            # A driver that opened a transaction for the SELECT (psycopg) ends it here; SQLite runs
            # in autocommit (clearguard.db takes transaction control from the driver), so no BEGIN.
            connection.rollback()
        finally:
            connection.close()
        return [self._row(row) for row in rows]


_TOKEN_STATEMENT = (
    select(AccessToken.expires_at, *_PRINCIPAL_COLUMNS)
    .join(AuthSession, AuthSession.id == AccessToken.session_id)
    .join(Account, Account.id == AuthSession.account_id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


class PrincipalLookup:
    """`principal_for` without a Session, for the request path. Nothing is cached: every request
    reads the token, its session and its account afresh, so revocation (logout, refresh reuse,
    disable, MFA reset, role change; from this process or any other, the CLI included) takes effect
    on the very next request."""

    def __init__(self, engine: Engine) -> None:
        self._token = _DriverQuery(engine, _TOKEN_STATEMENT)
        # Mandates are access's: asked through its read API (only brokers' requests need them).
        self._current_mandates = mandate_reader(engine)

    @classmethod
    def of(cls, factory: sessionmaker[Session]) -> PrincipalLookup | None:
        """A lookup on the engine the factory's sessions bind to; None when they bind to something
        else (a connection in a test), where `principal_for` through a session is the way."""
        bind = factory.kw.get("bind")
        return cls(bind) if isinstance(bind, Engine) else None

    def principal(self, access_token: str, *, now: datetime) -> Principal:
        rows = self._token.all(token_hash=digest(access_token))
        if not rows or rows[0][0] <= now:
            raise InvalidToken("access token unknown or expired")
        return _principal(rows[0][1:], now, self._current_mandates)
