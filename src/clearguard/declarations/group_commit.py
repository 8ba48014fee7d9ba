"""Group commit: lodging requests that arrive together share one transaction.

Each request hands its declaration to one writer thread and waits; the writer takes everything
queued (up to `max_batch`), lodges it in one transaction through DeclarationService.lodge_group, and
gives every request its own outcome. On SQLite, where writers are serialised anyway, this turns N
commits into one; on PostgreSQL it saves round trips. A request's outcome is exactly what lodging
it alone would have given: its own actor, its own findings, its own MRN or error.

API requests wait with `lodge_async`, on the event loop: no worker thread is parked per request,
and the writer wakes each event loop once per batch (one `call_soon_threadsafe`), not once per
request. `lodge` blocks the calling thread instead, for callers outside an event loop.

A transaction has a fixed cost (BEGIN, the per-batch look-ups, COMMIT) worth several declarations,
so when recent batches held several callers and fewer are queued, the writer waits up to
`max_wait_ms` (2 ms) for the others before it begins; a lone caller never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from clearguard.declarations.results import Actor, LodgeResult
from clearguard.declarations.service import DeclarationService
from clearguard.errors import ClearGuardError

Outcome = LodgeResult | BaseException


@dataclass(slots=True)
class _Pending:
    doc: dict[str, Any]
    actor: Actor
    # Exactly one of the two: a thread waiting on `done`, or a future on `loop`.
    done: threading.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[LodgeResult] | None = None
    outcome: Outcome | None = field(default=None)


def _settle(batch: list[_Pending]) -> None:
    """On the event loop: resolve the futures of one batch (a request gone away is skipped)."""
    for pending in batch:
        future = pending.future
        if future is None or future.done():
            continue
        if isinstance(pending.outcome, BaseException):
            future.set_exception(pending.outcome)
        else:
            assert pending.outcome is not None
            future.set_result(pending.outcome)


class GroupCommitter:
    def __init__(self, service: DeclarationService, *, max_batch: int = 64, max_wait_ms: float = 2.0) -> None:
        self._service = service
        self._max_batch = max_batch
        self._max_wait = max_wait_ms / 1000
        # Sizes of the last batches: how many callers there have lately been at once.
        self._recent: deque[int] = deque([1], maxlen=8)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def lodge(self, doc: dict[str, Any], actor: Actor) -> LodgeResult:
        """Blocks the calling (worker) thread until its declaration's batch has committed."""
        self._ensure_started()
        pending = _Pending(doc, actor, done=threading.Event())
        self._queue.put(pending)
        assert pending.done is not None
        pending.done.wait()
        return _result(pending.outcome)

    async def lodge_async(self, doc: dict[str, Any], actor: Actor) -> LodgeResult:
        """Waits on the running event loop until its declaration's batch has committed. A cancelled
        request (client gone) still has its declaration lodged: the batch is already under way."""
        if self._thread is None:
            self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[LodgeResult] = loop.create_future()
        self._queue.put(_Pending(doc, actor, loop=loop, future=future))
        return await future

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lodge-group-commit", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = self._drain(batch)
            # Recent batches had more requests than are here: their callers are likely on their
            # way back (answered together, they send again together). Wait a little for them
            # rather than pay a transaction for one or two (commit_delay with commit_siblings, as
            # PostgreSQL calls it). A lone caller never waits: its batches are all of one.
            expected = min(max(self._recent), self._max_batch)
            if not stopping and len(batch) < expected and self._max_wait > 0:
                stopping = self._gather(batch, expected)
            self._recent.append(len(batch))
            self._write(batch)
            self._answer(batch)
            if stopping:
                return

    def _drain(self, batch: list[_Pending]) -> bool:
        """Add what is queued already; True when the stop marker came."""
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            batch.append(item)
        return False

    def _gather(self, batch: list[_Pending], expected: int) -> bool:
        """Wait up to max_wait for the batch to reach `expected`; True when the stop marker came."""
        deadline = time.monotonic() + self._max_wait
        while len(batch) < expected:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return False
            if item is None:
                return True
            batch.append(item)
            if self._drain(batch):
                return True
        return False

    def _write(self, batch: list[_Pending]) -> None:
        try:
            outcomes: list[LodgeResult | ClearGuardError] = self._service.lodge_group([(p.doc, p.actor) for p in batch])
        except Exception:
            # The batch failed as a whole (a database error): lodge each alone, so one request's
            # trouble is never another's.
            for pending in batch:
                try:
                    pending.outcome = self._service.lodge(pending.doc, pending.actor, receipt=False)
                except Exception as exc:
                    pending.outcome = exc
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.outcome = outcome

    @staticmethod
    def _answer(batch: list[_Pending]) -> None:
        by_loop: defaultdict[asyncio.AbstractEventLoop, list[_Pending]] = defaultdict(list)
        for pending in batch:
            if pending.loop is not None:
                by_loop[pending.loop].append(pending)
            elif pending.done is not None:
                pending.done.set()
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, settled)


def _result(outcome: Outcome | None) -> LodgeResult:
    if isinstance(outcome, BaseException):
        raise outcome
    assert outcome is not None
    return outcome
