"""Consistent snapshots and their application: SQLite through its online backup API (in memory, so no
plaintext copy touches the disk), PostgreSQL through pg_dump / pg_restore (custom format, streamed)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404: pg_dump and pg_restore with argument lists, no shell
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url

from clearguard.backup.errors import BackupCorrupt, BackupError

PIPE_CHUNK = 1 << 20


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _rollback_journal(image: bytes) -> bytes:
    """The image with its file-format bytes (offsets 18, 19) set to rollback journal: a WAL-mode image
    cannot be opened in memory. The live database's connections switch back to WAL when they connect."""
    if len(image) >= 100 and image[:16] == b"SQLite format 3\x00" and image[18:20] == b"\x02\x02":
        return image[:18] + b"\x01\x01" + image[20:]
    return image


def load_image(conn: sqlite3.Connection, image: bytes) -> None:
    """Deserialize a backup's SQLite image into `conn`. sqlite3 answers MemoryError, not
    DatabaseError, for an empty image (found by fuzzing): anything without the SQLite header is
    refused here as BackupCorrupt before it reaches the library."""
    if len(image) < 100 or not image.startswith(b"SQLite format 3\x00"):
        raise BackupCorrupt("backup holds no valid SQLite image: no SQLite header")
    conn.deserialize(_rollback_journal(image))


def sqlite_snapshot(url: str) -> bytes:
    """A consistent image of the database, taken while writers keep going (backup API pages)."""
    path = sqlite_path(url)
    if not path.exists():
        raise BackupError(f"database {path} does not exist")
    with closing(sqlite3.connect(path, timeout=30)) as source, closing(sqlite3.connect(":memory:")) as image:
        source.backup(image)
        return _rollback_journal(image.serialize())


def sqlite_apply(url: str, image: bytes) -> None:
    """Replace the database's content with `image` (already verified), through the backup API so that
    the WAL and other connections stay consistent."""
    with closing(sqlite3.connect(":memory:")) as source:
        try:
            load_image(source, image)
            ok = source.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupCorrupt(f"backup holds no valid SQLite image: {exc}") from None
        if not ok or ok[0] != "ok":
            raise BackupCorrupt("backup holds a damaged SQLite image")
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=30)) as target:
            source.backup(target)


def _libpq(url: str) -> tuple[str, dict[str, str], str | None]:
    """(libpq URI without password, environment with PGPASSWORD, schema from search_path if any).

    The password goes through the environment, never the command line (visible in ps)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    user = quote(parsed.username or "", safe="")
    host = parsed.host or ""
    port = f":{parsed.port}" if parsed.port else ""
    uri = f"postgresql://{user + '@' if user else ''}{host}{port}/{quote(parsed.database or '', safe='')}"
    schema = None
    params: list[str] = []
    for key, value in parsed.query.items():
        for item in (value,) if isinstance(value, str) else value:
            params.append(f"{quote(key)}={quote(item, safe='')}")
            if key == "options" and "search_path=" in unquote(item):
                schema = unquote(item).split("search_path=", 1)[1].split()[0].split(",")[0]
    if params:
        uri += "?" + "&".join(params)
    return uri, env, schema


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found on PATH: install the PostgreSQL client tools")
    return path


def pg_dump(url: str) -> Iterator[bytes]:
    """Stream a pg_dump custom-format archive (one consistent snapshot, compressed)."""
    uri, env, schema = _libpq(url)
    cmd = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--dbname={uri}"]
    if schema:
        cmd.append(f"--schema={schema}")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # noqa: S603  # nosec B603: argv list, no shell
    assert proc.stdout is not None and proc.stderr is not None
    try:
        while chunk := proc.stdout.read(PIPE_CHUNK):
            yield chunk
        err = proc.stderr.read().decode(errors="replace").strip()
    finally:
        code = proc.wait()
    if code != 0:
        raise BackupError(f"pg_dump failed (exit {code}): {err.splitlines()[-1] if err else 'no message'}")


def pg_restore(url: str, chunks: Iterable[bytes]) -> None:
    """Feed a verified archive to pg_restore in one transaction: a failure part-way changes nothing."""
    uri, env, _schema = _libpq(url)
    cmd = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={uri}",
    ]
    # The argument list is built here from a parsed URL, never through a shell.
    proc = subprocess.Popen(  # noqa: S603  # nosec B603
        cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None and proc.stderr is not None
    try:
        for chunk in chunks:
            proc.stdin.write(chunk)
        proc.stdin.close()
    except BrokenPipeError:
        pass  # pg_restore stopped early; its exit code and message say why
    except BaseException:
        proc.kill()  # a chunk failed to verify: abort, the single transaction rolls back
        proc.wait()
        raise
    err = proc.stderr.read().decode(errors="replace").strip()
    code = proc.wait()
    if code != 0:
        raise BackupError(f"pg_restore failed (exit {code}): {err.splitlines()[-1] if err else 'no message'}")
