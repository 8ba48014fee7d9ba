"""PostureService: the security self-audit. `run()` gathers the facts through the capabilities'
services and judges them (checks.py); `daily()` is what the server's schedule runs: verify the
ledger (recorded, so the verification-age check sees it), audit, keep the report under var/posture/
(0600), and raise one detection alert per check that newly fails."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from clearguard.posture import gather
from clearguard.posture.advisories import write_private
from clearguard.posture.checks import CHECKS, Check, CheckResult, run_checks
from clearguard.posture.facts import Facts
from clearguard.posture.ports import AlertSink
from clearguard.posture.report import Report, to_json

log = logging.getLogger("clearguard.posture")

LAST_REPORT: Final = "last-report.json"


def new_fails(previous: Report | None, current: Report) -> list[CheckResult]:
    """Checks failing now that passed or warned in the previous report (or were not in it: a check
    added since, or no previous report at all). A check that keeps failing is not new."""
    return [
        c
        for c in current.checks
        if c.status == "fail" and (previous is None or previous.status_of(c.id) in (None, "pass", "warn"))
    ]


@dataclass(frozen=True, slots=True)
class DailyResult:
    report: Report
    alerts: tuple[int, ...]  # ids of the alerts raised for new fails
    ledger_ok: bool


class ReportStore:
    """The last scheduled report, var/posture/last-report.json, mode 0600."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LAST_REPORT

    def load(self) -> Report | None:
        try:
            return Report.from_dict(json.loads(self.path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, report: Report) -> None:
        write_private(self.path, to_json(report))


class PostureService:
    def __init__(
        self,
        sources: gather.Sources,
        *,
        alerts: AlertSink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        checks: Sequence[Check] = CHECKS,
    ) -> None:
        self.sources = sources
        self.alerts = alerts
        self.clock = clock
        self.checks = tuple(checks)
        self.store = ReportStore(sources.settings.var_dir / "posture")

    def facts(self) -> Facts:
        s, now = self.sources, self.clock()
        accounts = gather.attempt(lambda: gather.gather_accounts(s))
        return Facts(
            now=now,
            tls=gather.attempt(lambda: gather.gather_tls(s.settings)),
            accounts=accounts,
            keys=gather.attempt(lambda: gather.gather_keys(s)),
            shares=gather.attempt(lambda: gather.gather_shares(s)),
            ledger=gather.attempt(lambda: gather.gather_ledger(s)),
            witnesses=gather.attempt(lambda: gather.gather_witnesses(s)),
            retention=gather.attempt(lambda: gather.gather_retention(s, now)),
            alerts=gather.attempt(lambda: gather.gather_alerts(s)),
            training=gather.attempt(lambda: gather.gather_training(s, now)),
            files=gather.attempt(lambda: gather.scan_files(s.settings.var_dir, s.settings.keys_dir)),
            dependencies=gather.attempt(lambda: gather.gather_dependencies(s, now)),
            config=gather.gather_config(s.settings, accounts),
        )

    def run(self) -> Report:
        facts = self.facts()
        settings = self.sources.settings
        instance = {"name": settings.administration_name, "url": settings.public_url, "env": settings.env}
        return Report(tuple(run_checks(facts, self.checks)), facts.now, instance)

    def last_report(self) -> Report | None:
        return self.store.load()

    def daily(self) -> DailyResult:
        """Verify the ledger, audit, alert on new fails, keep the report. Alerts are raised before the
        report is kept: a crash in between raises them again next time rather than never."""
        ledger_ok = self._verify_ledger()
        report = self.run()
        previous = self.store.load()
        raised: list[int] = []
        for check in new_fails(previous, report):
            if self.alerts is None:
                log.warning("self-audit: %s fails (%s); no alert sink configured", check.id, check.asvs)
                continue
            raised.append(self.alerts.raise_posture_fail(check.id, check.reason, check.asvs, at=report.generated_at))
        self.store.save(report)
        return DailyResult(report, tuple(raised), ledger_ok)

    def _verify_ledger(self) -> bool:
        ledger = self.sources.ledger
        with self.sources.session_factory() as session:
            report, _notes = ledger.verify_recorded(session)
        return report.ok
