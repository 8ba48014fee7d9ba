"""Reading declaration files from disk with the limits and one-line errors of parse.py.

Only regular files, never more than the limit (clearguard.user_files): a document is at most
CLEARGUARD_MAX_REQUEST_BYTES, an import is streamed line by line, each line at most
CLEARGUARD_MAX_IMPORT_LINE_BYTES.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearguard.declarations.parse import parse_json
from clearguard.errors import ClearGuardError, InputError
from clearguard.user_files import open_regular, read_limited

LINE_SETTING = "CLEARGUARD_MAX_IMPORT_LINE_BYTES"


def read_document(path: Path, *, max_bytes: int) -> dict[str, Any]:
    return parse_json(read_limited(path, max_bytes=max_bytes), max_bytes=max_bytes, source=str(path))


def count_lines(path: Path) -> int:
    """Newlines in a regular file, streamed in 1 MiB chunks (for the import progress bar)."""
    with open_regular(path) as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def read_json_lines(path: Path, *, max_line_bytes: int) -> Iterator[tuple[int, dict[str, Any] | ClearGuardError]]:
    """(line number, document or the line's error) for every non-blank line; a bad line never stops
    the others and is never dropped."""
    handle = open_regular(path)
    with handle:
        number = 0
        while True:
            raw = handle.readline(max_line_bytes + 1)
            if not raw:
                return
            number += 1
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                # Skip the rest of an over-long line without holding it in memory.
                while raw and not raw.endswith(b"\n"):
                    raw = handle.readline(1 << 20)
                too_long = f"line {number}: longer than the limit of {max_line_bytes} bytes ({LINE_SETTING})"
                yield number, InputError(too_long)
                continue
            if not raw.strip():
                continue
            try:
                yield number, parse_json(raw, max_bytes=max_line_bytes, source=f"line {number}")
            except InputError as exc:
                yield number, exc


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
