"""Process-wide settings of the interpreter for ClearGuard's long-running work.

The cyclic garbage collector's default young-generation threshold (700 container allocations) runs
a collection every couple of declarations during lodging, and each older-generation pass rescans
every long-lived object (reference data, rule packs, models, compiled schemas). Nearly everything
lodging allocates is freed by reference counting, so collecting far less often costs little memory
and saved about a third of the CPU time of bulk lodging here. The CLI (and so `clearguard serve`)
applies this at start; the benchmarks apply it to both sides of each comparison.

Every file ClearGuard creates (databases with their -wal and -shm, keys, models, tiles, backups,
exports) holds confidential data or is only for the operator: `private_files` sets the process's
umask so that each is created readable by its owner alone, whatever the library that creates it
(SQLite, numpy, uvicorn). The CLI (and so the server it starts) calls it first thing.
"""

from __future__ import annotations

import gc
import os
from typing import Final

YOUNG_THRESHOLD = 50_000
PRIVATE_UMASK: Final = 0o077  # files 0600, directories 0700


def tune_gc() -> None:
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, max(middle, 20), old)


def private_files() -> None:
    """Files and directories created from now on by this process are its owner's alone."""
    os.umask(PRIVATE_UMASK)
