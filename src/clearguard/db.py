"""Database engine, sessions and the declarative base.

SQLite (WAL) is the embedded default, PostgreSQL the production database; the same models and
queries run on both. SQLite writers take the write lock at BEGIN (BEGIN IMMEDIATE), so concurrent
writers queue on the busy timeout instead of failing half-way with "database is locked" on upgrade.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import BigInteger, DateTime, Dialect, Engine, Integer, MetaData, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

READ_ONLY = "clearguard_read_only"

# BIGINT primary keys on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:  # utcnow()'s values: every row written takes this path
            return value
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_database_files(Path(database))
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=False,
            json_serializer=_json_text,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=_json_text
    )


def private_database_files(path: Path) -> None:
    """The SQLite file, its -wal and -shm, readable by their owner alone: the file is created 0600
    before SQLite opens it (SQLite gives a new -wal and -shm the database file's mode), and files made
    0644 by an earlier version are tightened. A directory made here is 0700."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if name.stat().st_mode & 0o077:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def _json_text(value: Any) -> str:
    # JSON columns are written for every declaration version: orjson is several times json.dumps.
    return orjson.dumps(value).decode()


def purge_freed(engine: Engine) -> None:
    """After an erasure (a disposal run): on SQLite, checkpoint the WAL into the file (where
    secure_delete has zeroed what was deleted) and truncate it, so no old frame keeps a copy. On
    PostgreSQL a logical dump never shows deleted rows, and autovacuum reclaims their space."""
    if engine.dialect.name != "sqlite":
        return
    # On the driver's connection, outside any transaction (a checkpoint cannot run inside one, and
    # the engine's connections begin one as soon as they are used).
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN IMMEDIATE below is the only BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA wal_autocheckpoint=16384")
        # Deleted and overwritten content is zeroed, not left in free pages: a disposed record's
        # bytes must not be recoverable from the file (purge_freed then clears the WAL).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers (token checks, GETs) begin deferred so they never queue behind a writer: in WAL
        # mode they read their snapshot while a write goes on.
        deferred = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions for units of work; `read_only` sessions take no write lock on SQLite (a write in
    one fails there instead of waiting), so use them only for reads."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back everything on any exception."""
    with factory() as session, session.begin():
        yield session



# (dialect name, table, columns) -> (SQL, column order of positional parameters or None for named
# ones, [(position, column, bind processor)] of the columns that have one)
_Processors = list[tuple[int, str, Callable[[Any], Any]]]
_InsertPlan = tuple[str, list[str] | None, _Processors]
_INSERT_PLANS: dict[tuple[str, str, tuple[str, ...]], _InsertPlan] = {}
_UNSET = object()
# (compiled statement, parameter order when positional, {name: (value bound at build time, bind
# processor)}, result processors per column, whether a parameter expands)
_DriverPlan = tuple[SQLCompiler, tuple[str, ...] | None, dict[str, tuple[Any, Any]], list[Any], bool]


def _insert_plan(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _InsertPlan:
    key = (dialect.name, table.name, columns)
    plan = _INSERT_PLANS.get(key)
    if plan is None:
        unknown = sorted(set(columns) - set(table.c.keys()))
        if unknown:
            raise ValueError(f"{table.name}: no column {', '.join(unknown)}")
        compiled = table.insert().inline().compile(dialect=dialect, column_keys=list(columns))
        positional = dialect.paramstyle in ("qmark", "format", "numeric")
        order = list(compiled.positiontup or ()) if positional else list(columns)
        if sorted(order) != sorted(columns) or len(order) < 2:
            raise ValueError(f"{table.name}: cannot bulk insert columns {columns}")
        processors: _Processors = []
        for at, name in enumerate(order):
            proc = table.c[name].type._cached_bind_processor(dialect)
            if proc is not None:
                processors.append((at, name, proc))
        plan = _INSERT_PLANS[key] = (compiled.string, order if positional else None, processors)
    return plan


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys as one driver-level executemany.

    The same SQL and the same bind processors (JSON, UTC datetimes) as a Core insert, compiled once
    per table and column set, without SQLAlchemy's per-row parameter bookkeeping: bulk lodging
    writes several rows per declaration, and that bookkeeping cost more than the database did."""
    if not rows:
        return
    connection = session.connection()
    sql, order, processors = _insert_plan(connection.dialect, table, tuple(rows[0]))
    # A batch's rows share values (its timestamp, its actor): each processed value is kept for the next row.
    memo: list[tuple[Any, Any]] = [(_UNSET, None)] * len(processors)

    def processed(slot: int, proc: Callable[[Any], Any], value: Any) -> Any:
        last, out = memo[slot]
        if value is not last:
            out = proc(value)
            memo[slot] = (value, out)
        return out

    if order is None:  # named parameters (PostgreSQL): the rows as they are, processed values replaced
        params: list[Any] = [
            row | {name: processed(slot, proc, row[name]) for slot, (_at, name, proc) in enumerate(processors)}
            for row in rows
        ]
    else:
        pick = itemgetter(*order)
        if processors:
            params = []
            for row in rows:
                values = list(pick(row))
                for slot, (at, name, proc) in enumerate(processors):
                    values[at] = processed(slot, proc, row[name])
                params.append(tuple(values))
        else:
            params = [pick(row) for row in rows]
    connection.exec_driver_sql(sql, params)


class DriverStatement:
    """A fixed statement run on the DBAPI connection of the caller's transaction, compiled once per
    dialect, with the bind and result processors SQLAlchemy would apply.

    For the few statements every lodging transaction runs (the LRN lookup, the ledger counter, the
    current risk model, the check that used data keys still live): building a Core statement and
    executing it through a Session costs ~100 us of Python per call, the statement itself a few.
    Expanding (IN) parameters are rendered per call by SQLAlchemy's own construct_expanded_state.
    The ORM does not autoflush before it: use it only where pending ORM objects cannot matter."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[str, _DriverPlan] = {}

    def _plan(self, dialect: Dialect) -> _DriverPlan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            positional = tuple(compiled.positiontup or ()) if compiled.positional else None
            # name -> (the value bound when the statement was built, e.g. a literal; its processor)
            binds = {
                name: (bind.value, bind.type.dialect_impl(dialect).bind_processor(dialect))
                for name, bind in compiled.binds.items()
            }
            expanding = any(bind.expanding for bind in compiled.binds.values())
            columns = getattr(self.statement, "exported_columns", ())
            results = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]
            plan = self._plans[dialect.name] = (compiled, positional, binds, results, expanding)
        return plan

    def rows(self, session: Session, **values: Any) -> list[tuple[Any, ...]]:
        connection = session.connection()  # begins the transaction as any statement would
        compiled, positional, binds, results, expanding = self._plan(connection.dialect)
        if expanding:
            state = compiled.construct_expanded_state(values, escape_names=False)
            sql: str = state.statement
            params: dict[str, Any] = dict(state.parameters)
            for name, process in state.processors.items():
                if params.get(name) is not None:
                    params[name] = process(params[name])
            order = state.positiontup if compiled.positional else None
        else:
            sql, order, params = compiled.string, positional, {}
            for name, (bound, process) in binds.items():
                value = values.get(name, bound)
                params[name] = process(value) if process is not None and value is not None else value
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params if order is None else tuple(params[name] for name in order))
            raw = cursor.fetchall() if cursor.description is not None else []
        finally:
            cursor.close()
        if not any(results):
            return [tuple(row) for row in raw]
        return [tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True)) for row in raw]
