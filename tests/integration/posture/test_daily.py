"""The daily run: it verifies the ledger (recorded), keeps its report under var/posture/ (0600),
raises exactly one `posture.fail` alert for a check that newly fails and none when it fails again;
the schedule runs it in one worker at a time (the self-audit duty lock) and only when due."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from clearguard.app import create_app
from clearguard.crypto.tls import TlsFiles
from clearguard.detection.alerts import POSTURE_RULE
from clearguard.duties import DutyLock
from clearguard.posture import DailyAudit
from tests.integration.posture.env import AuditEnv


def posture_alerts(env: AuditEnv) -> list[dict[str, object]]:
    assert env.services.detection is not None
    return [a for a in env.services.detection.alerts(status="open") if a["rule"] == POSTURE_RULE]


def test_a_new_fail_raises_one_alert_and_a_repeat_none(env: AuditEnv) -> None:
    first = env.posture.daily()
    assert first.ledger_ok
    assert env.check("ledger.verification").status == "pass"  # the daily run verified and recorded it
    kept = env.posture.store.path
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert env.posture.last_report() == first.report
    before = {c.id for c in first.report.checks if c.status == "fail"}
    assert "files.permissions" not in before
    assert len(posture_alerts(env)) == len(first.alerts)

    os.chmod(TlsFiles.under(env.settings.keys_dir).ca_cert, 0o644)
    second = env.posture.daily()
    assert len(second.alerts) == 1
    alerts = [a for a in posture_alerts(env) if a["id"] == second.alerts[0]]
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "posture.fail" and "files.permissions" in str(alerts[0]["explanation"])
    assert alerts[0]["severity"] == "high" and alerts[0]["level"] == "alert"
    count = len(posture_alerts(env))

    third = env.posture.daily()
    assert third.alerts == ()
    assert len(posture_alerts(env)) == count
    # The open-alerts check does not count the self-audit's own alerts (they are its failing checks).
    assert env.check("detection.open_alerts").status == "pass"


def test_schedule_runs_in_one_worker_and_only_when_due(env: AuditEnv) -> None:
    var = env.settings.var_dir
    other = DutyLock(env.services.engine, "self-audit", var_dir=var)
    now = datetime.now(UTC)
    schedule = DailyAudit(
        env.posture, DutyLock(env.services.engine, "self-audit", var_dir=var), interval=timedelta(days=1),
        clock=lambda: now,
    )  # fmt: skip
    assert other.try_acquire()
    try:
        assert schedule.run_due() is None  # another worker holds the duty
        assert env.posture.last_report() is None
    finally:
        other.release()
    ran = schedule.run_due()
    assert ran is not None and env.posture.last_report() == ran.report
    assert schedule.run_due() is None  # not due again within the day
    later = DailyAudit(
        env.posture, DutyLock(env.services.engine, "self-audit", var_dir=var), interval=timedelta(days=1),
        clock=lambda: now + timedelta(days=1, minutes=1),
    )  # fmt: skip
    assert later.run_due() is not None
    assert other.try_acquire()  # released after each run
    other.release()


def test_the_server_runs_the_schedule_while_it_serves(env: AuditEnv) -> None:
    app = create_app(env.settings, services=env.services)
    schedule = app.state.self_audit
    assert isinstance(schedule, DailyAudit) and schedule.interval == timedelta(hours=24)
    with TestClient(app):
        assert any(t.name == "clearguard-self-audit" and t.is_alive() for t in threading.enumerate())
    assert not any(t.name == "clearguard-self-audit" for t in threading.enumerate())
    off = create_app(env.settings.model_copy(update={"posture_schedule": False}), services=env.services)
    assert off.state.self_audit is None
