"""Security self-audit: the posture of every capability below it (TLS, accounts and second factors,
keys, the ledger and its witnesses, retention, alerts, training, files under var/, dependencies,
configuration), each check judged pass, warn or fail against its OWASP ASVS 5.0 requirement; run on
demand (`clearguard audit security`) and daily inside the server, alerting on a new fail."""

from clearguard.posture.advisories import DependencyAudit
from clearguard.posture.checks import CHECKS, Check, CheckResult, Status
from clearguard.posture.gather import Sources
from clearguard.posture.ports import AlertSink, Duty, TrainingGap, TrainingGaps
from clearguard.posture.report import FORMATS, Report, render
from clearguard.posture.schedule import DailyAudit
from clearguard.posture.service import DailyResult, PostureService, new_fails

__all__ = [
    "CHECKS",
    "FORMATS",
    "AlertSink",
    "Check",
    "CheckResult",
    "DailyAudit",
    "DailyResult",
    "DependencyAudit",
    "Duty",
    "PostureService",
    "Report",
    "Sources",
    "Status",
    "TrainingGap",
    "TrainingGaps",
    "new_fails",
    "render",
]
