"""Reading one value out of a backup without applying it: what a restore must know before it replaces
the database (the ledger's next index, to refuse losing signed entries unasked).

SQLite: the verified image is opened in memory. PostgreSQL: the verified archive is streamed through
`pg_restore --data-only --table=T --file=-`, which prints that table's COPY block and touches no
database. Either way the backup is authenticated chunk by chunk, as restore does."""

from __future__ import annotations

import re
import sqlite3
import subprocess  # nosec B404: pg_restore with argument lists, no shell
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from clearguard.backup import format as fmt
from clearguard.backup.errors import BackupCorrupt, BackupError
from clearguard.backup.service import open_backup
from clearguard.backup.snapshot import _tool, load_image

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def backup_integer(backup_key: bytes, path: Path, table: str, column: str) -> int | None:
    """The integer in `table.column` of the backup's first row; None when the table is absent or
    empty (a backup taken before the table existed, or before anything was written to it)."""
    if not (_NAME.fullmatch(table) and _NAME.fullmatch(column)):
        raise BackupError(f"not a plain table and column name: {table}.{column}")
    with open_backup(path) as handle:
        header, chunks = fmt.read_backup(handle, backup_key)
        if header.kind == fmt.KIND_SQLITE:
            return _sqlite_integer(b"".join(chunks), table, column)
        return _pg_integer(chunks, table, column)


def _sqlite_integer(image: bytes, table: str, column: str) -> int | None:
    with closing(sqlite3.connect(":memory:")) as conn:
        try:
            load_image(conn, image)
            present = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
            if present is None:
                return None
            row = conn.execute(f'SELECT "{column}" FROM "{table}" LIMIT 1').fetchone()  # noqa: S608 - names checked  # nosec B608
        except sqlite3.DatabaseError as exc:
            raise BackupCorrupt(f"backup holds no valid SQLite image: {exc}") from None
    return None if row is None or row[0] is None else int(row[0])


def _pg_integer(chunks: Iterator[bytes], table: str, column: str) -> int | None:
    cmd = [_tool("pg_restore"), "--data-only", f"--table={table}", "--file=-"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603  # nosec B603: argv list, no shell
    assert proc.stdin is not None
    try:
        # No reader thread needed: the COPY block of a one-row table is tiny, so stdout never fills
        # while we write; communicate() collects it after the last chunk.
        for chunk in chunks:
            proc.stdin.write(chunk)
    except BrokenPipeError:
        pass
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    out, err = proc.communicate()
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise BackupError(f"pg_restore could not read the backup: {message[-1] if message else 'no message'}")
    return _copy_value(out.decode(errors="replace"), table, column)


def _copy_value(script: str, table: str, column: str) -> int | None:
    lines = script.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r'COPY (?:"?[^". ]+"?\.)?"?' + table + r'"? \(([^)]*)\) FROM stdin;', line)
        if match is None:
            continue
        columns = [c.strip().strip('"') for c in match.group(1).split(",")]
        if column not in columns or i + 1 >= len(lines) or lines[i + 1] == "\\.":
            return None
        value = lines[i + 1].split("\t")[columns.index(column)]
        return None if value == "\\N" else int(value)
    return None
