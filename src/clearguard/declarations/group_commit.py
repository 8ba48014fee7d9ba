"""Group commit: lodging requests that arrive together share one transaction.

Each API request hands its declaration to one writer thread and waits; the writer takes everything
queued (up to `max_batch`), lodges it in one transaction through DeclarationService.lodge_group, and
gives every request its own outcome. On SQLite, where writers are serialised anyway, this turns N
commits into one; on PostgreSQL it saves round trips. A request's outcome is exactly what lodging
it alone would have given: its own actor, its own findings, its own MRN or error.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from clearguard.declarations.service import DeclarationService
from clearguard.declarations.views import Actor, LodgeResult
from clearguard.errors import ClearGuardError


@dataclass
class _Pending:
    doc: dict[str, Any]
    actor: Actor
    done: threading.Event = field(default_factory=threading.Event)
    outcome: LodgeResult | BaseException | None = None


class GroupCommitter:
    def __init__(self, service: DeclarationService, *, max_batch: int = 64) -> None:
        self._service = service
        self._max_batch = max_batch
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def lodge(self, doc: dict[str, Any], actor: Actor) -> LodgeResult:
        """Blocks the calling (worker) thread until its declaration's batch has committed."""
        self._ensure_started()
        pending = _Pending(doc, actor)
        self._queue.put(pending)
        pending.done.wait()
        if isinstance(pending.outcome, BaseException):
            raise pending.outcome
        assert pending.outcome is not None
        return pending.outcome

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
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._write(batch)

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
                pending.done.set()
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.outcome = outcome
            pending.done.set()
