"""The self-audit's report and its renderings: text for a terminal, JSON for machines (the shape
issue 18 names: {"checks": [{"id", "status", "reason", "asvs"}], ...} with summary counts,
generated_at and instance), and a self-contained HTML page (no script, escaped by Jinja2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from jinja2 import Environment, select_autoescape

from clearguard.posture.checks import STATUSES, CheckResult, Status

FORMATS: Final = ("text", "json", "html")
ASVS_URL: Final = "https://github.com/OWASP/ASVS/tree/v5.0.0/5.0"


@dataclass(frozen=True, slots=True)
class Report:
    checks: tuple[CheckResult, ...]
    generated_at: datetime
    instance: dict[str, str]  # name, url, env

    @property
    def summary(self) -> dict[str, int]:
        return {status: sum(1 for c in self.checks if c.status == status) for status in STATUSES}

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def status_of(self, check_id: str) -> Status | None:
        return next((c.status for c in self.checks if c.id == check_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": [c.to_dict() for c in self.checks],
            "summary": self.summary,
            "generated_at": self.generated_at.isoformat(),
            "instance": dict(self.instance),
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Report:
        checks = tuple(
            CheckResult(
                str(c["id"]), str(c.get("title", c["id"])), cast(Status, c["status"]), str(c["reason"]), str(c["asvs"])
            )
            for c in body["checks"]
            if c.get("status") in STATUSES
        )
        return cls(
            checks, datetime.fromisoformat(body["generated_at"]), {k: str(v) for k, v in body["instance"].items()}
        )


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def to_text(report: Report) -> str:
    width = max((len(c.id) for c in report.checks), default=10)
    lines = [
        f"ClearGuard security self-audit: {report.instance.get('name', '')} ({report.instance.get('url', '')}, "
        f"env {report.instance.get('env', '')}), {report.generated_at.isoformat(timespec='seconds')}",
        "",
    ]
    for c in report.checks:
        lines.append(f"{c.status.upper():<4}  {c.id:<{width}}  {c.asvs:<8}  {c.reason}")
    s = report.summary
    lines += ["", f"{s['pass']} pass, {s['warn']} warn, {s['fail']} fail"]
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Security self-audit, {{ generated_at }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ccc; vertical-align: top; }
.pass { color: #0b6b2c; } .warn { color: #8a5300; } .fail { color: #b00020; font-weight: bold; }
</style>
</head>
<body>
<main>
<h1>Security self-audit</h1>
<p>{{ instance.name }} ({{ instance.url }}, env {{ instance.env }}), generated {{ generated_at }}.</p>
<p><strong>{{ summary.pass }} pass, {{ summary.warn }} warn, {{ summary.fail }} fail.</strong></p>
<table>
<caption>Checks, with the OWASP ASVS 5.0 requirement each verifies</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Check</th><th scope="col">ASVS</th>
<th scope="col">Reason</th></tr></thead>
<tbody>
{% for c in checks %}<tr>
<td class="{{ c.status }}">{{ c.status }}</td><td>{{ c.title }}<br><code>{{ c.id }}</code></td>
<td><a href="{{ asvs_url }}">{{ c.asvs }}</a></td><td>{{ c.reason }}</td>
</tr>
{% endfor %}</tbody>
</table>
</main>
</body>
</html>
"""
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_TEMPLATE = _ENV.from_string(_HTML)


def to_html(report: Report) -> str:
    return _TEMPLATE.render(
        checks=report.checks,
        summary=report.summary,
        instance=report.instance,
        generated_at=report.generated_at.isoformat(timespec="seconds"),
        asvs_url=ASVS_URL,
    )


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return to_json(report)
    if fmt == "html":
        return to_html(report)
    return to_text(report)
