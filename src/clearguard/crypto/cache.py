"""A small thread-safe LRU with a time limit, for unwrapped key objects.

The time limit bounds how long unwrapped key material stays in memory. A shred by another process
does not wait for it: CryptoService drops the whole cache when the shred epoch moves.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Generic, TypeVar

_now = time.monotonic
K = TypeVar("K")
V = TypeVar("V")


class TtlLru(Generic[K, V]):
    def __init__(self, max_size: int, ttl_seconds: float) -> None:
        if max_size < 1:
            raise ValueError("cache size must be at least 1")
        self._max = max_size
        self._ttl = ttl_seconds
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        # key -> (monotonic expiry, value), for callers' inlined lock-free reads on a hot path (seal and
        # open): what get does without the call, the recency bump or the discard of an expired entry.
        # Read only: writes go through put and discard.
        self.entries: Mapping[K, tuple[float, V]] = self._items
        self._lock = threading.Lock()
        self._move_to_end = self._items.move_to_end

    def get(self, key: K) -> V | None:
        # Lock-free read: single OrderedDict operations are atomic under the GIL, and this is the hot
        # path of every seal and open. A concurrent eviction at worst turns a hit into a miss.
        item = self._items.get(key)
        if item is None:
            return None
        if _now() >= item[0]:
            self.discard(key)
            return None
        # Not contextlib.suppress: this runs per field, and a context manager costs more than the rest.
        try:  # noqa: SIM105
            self._move_to_end(key)
        except KeyError:
            pass
        return item[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def discard(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
