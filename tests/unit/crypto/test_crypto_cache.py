from __future__ import annotations

import time

from clearguard.crypto.cache import TtlLru


def test_lru_evicts_least_recently_used() -> None:
    cache: TtlLru[int, str] = TtlLru(2, 60)
    cache.put(1, "a")
    cache.put(2, "b")
    assert cache.get(1) == "a"  # 2 is now the least recently used
    cache.put(3, "c")
    assert cache.get(2) is None
    assert cache.get(1) == "a" and cache.get(3) == "c"


def test_entries_expire() -> None:
    cache: TtlLru[int, str] = TtlLru(10, 0.05)
    cache.put(1, "a")
    assert cache.get(1) == "a"
    time.sleep(0.06)
    assert cache.get(1) is None
    assert len(cache) == 0
