"""Reading declaration files from disk with the limits and one-line errors of parse.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearguard.declarations.parse import parse_json
from clearguard.errors import ClearGuardError, InputError


def read_document(path: Path, *, max_bytes: int) -> dict[str, Any]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > max_bytes:
        raise InputError(f"{path}: {size} bytes is larger than the limit of {max_bytes} bytes")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_json(raw, max_bytes=max_bytes, source=str(path))


def read_json_lines(path: Path, *, max_line_bytes: int) -> Iterator[tuple[int, dict[str, Any] | ClearGuardError]]:
    """(line number, document or the line's error) for every non-blank line; a bad line never stops
    the others and is never dropped."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
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
                yield number, InputError(f"line {number}: longer than the limit of {max_line_bytes} bytes")
                continue
            if not raw.strip():
                continue
            try:
                yield number, parse_json(raw, max_bytes=max_line_bytes, source=f"line {number}")
            except InputError as exc:
                yield number, exc


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
