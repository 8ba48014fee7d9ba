"""The daily self-audit inside the server: a thread that, every `poll_s`, tries the `self-audit` duty
lock (clearguard.duties.DutyLock: one worker of all at a time), and, holding it, runs
PostureService.daily() when the last kept report is older than the interval. Workers that do not
get the lock wait for the next poll; the kept report's time is shared through var/posture/, so a
worker that restarts does not run the audit again before it is due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from clearguard.posture.ports import Duty
from clearguard.posture.service import DailyResult, PostureService

log = logging.getLogger("clearguard.posture")


class DailyAudit:
    def __init__(
        self,
        service: PostureService,
        duty: Duty,
        *,
        interval: timedelta = timedelta(days=1),
        poll_s: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.service = service
        self.duty = duty
        self.interval = interval
        self.poll_s = poll_s
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self) -> bool:
        last = self.service.last_report()
        return last is None or self.clock() - last.generated_at >= self.interval

    def run_due(self) -> DailyResult | None:
        """One poll: the audit's result if this process held the duty and the audit was due; None
        otherwise. Never raises: a failing audit is logged and retried at the next poll."""
        if not self.duty.try_acquire():
            return None
        try:
            if not self.due():
                return None
            result = self.service.daily()
            summary = result.report.summary
            log.info(
                "self-audit: %d pass, %d warn, %d fail; %d new alerts",
                summary["pass"], summary["warn"], summary["fail"], len(result.alerts),
            )  # fmt: skip
            return result
        except Exception:  # a background duty must survive anything and try again next poll
            log.exception("self-audit failed; retrying at the next poll")
            return None
        finally:
            self.duty.release()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="clearguard-self-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        # The first poll one period after start: a server (or a test's app) that lives for seconds
        # never audits, and the workers of one restart do not all contend at once.
        while not self._stop.wait(self.poll_s):
            self.run_due()
