"""Files a user names on the command line: regular files only, read with a byte limit.

`declarations validate /dev/zero` once read until memory ran out and a FIFO hung the command. A
named file is now opened without blocking and checked on the opened descriptor: anything but a
regular file is refused at once (exit 2, one line naming the file and the rule), and no more than
the limit plus one byte is ever read, whatever size the file reports (files under /proc report 0).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from clearguard.errors import InputError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(path: Path) -> IO[bytes]:
    """`path` opened for reading, if it is a regular file; InputError naming the file otherwise.

    Opened without blocking (a FIFO with no writer would hang a plain open) and checked on the
    opened descriptor, so a file swapped after a check is still caught."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise InputError(f"{path}: is {kind}; only regular files are read")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: Path, *, max_bytes: int, setting: str = "CLEARGUARD_MAX_REQUEST_BYTES") -> bytes:
    """The bytes of a regular file of at most `max_bytes`; reads no more than one byte past it,
    whatever the file's reported size (files under /proc report 0)."""
    with open_regular(path) as handle:
        try:
            raw = handle.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > max_bytes:
        raise InputError(f"{path}: larger than the limit of {max_bytes} bytes ({setting})")
    return raw


def load_yaml(text: str) -> object:
    """yaml.safe_load, with its two crashes turned into the yaml.YAMLError that callers already
    handle: an integer past Python's 4300-digit limit (ValueError) and nesting deeper than the
    interpreter's stack (RecursionError), both found by fuzzing the policy files."""
    import yaml

    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    except ValueError as exc:
        raise yaml.YAMLError(f"a value cannot be read ({str(exc)[:60]})") from None
