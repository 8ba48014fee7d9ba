"""Process-wide settings of the interpreter for ClearGuard's long-running work.

The cyclic garbage collector's default young-generation threshold (700 container allocations) runs
a collection every couple of declarations during lodging, and each older-generation pass rescans
every long-lived object (reference data, rule packs, models, compiled schemas). Nearly everything
lodging allocates is freed by reference counting, so collecting far less often costs little memory
and saved about a third of the CPU time of bulk lodging here. The CLI (and so `clearguard serve`)
applies this at start; the benchmarks apply it to both sides of each comparison.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, max(middle, 20), old)
