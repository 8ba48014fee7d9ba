"""CI's known-vulnerability gate: pip-audit over the installed environment against the PyPI advisory
service (through clearguard.posture.advisories, the self-audit's own runner). A vulnerability found
fails the build (exit 1); the advisory service unreachable, timing out, or knowing none of the
packages does not (exit 0, with `not checked: <why>` on stderr): a network fault must not block CI,
and the daily self-audit keeps reporting the dependency check as `warn` until it is checked."""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from clearguard.posture.advisories import DependencyAudit
from clearguard.posture.facts import Unavailable


def main() -> int:
    with tempfile.TemporaryDirectory() as cache:  # CI wants a fresh answer, not yesterday's
        facts = DependencyAudit(Path(cache), timeout_s=30).facts(datetime.now(UTC))
    if isinstance(facts, Unavailable):
        print(f"pip-audit: not checked: {facts.why}", file=sys.stderr)
        return 0
    for v in facts.vulnerabilities:
        fixed = f" (fixed in {', '.join(v.fixed_in)})" if v.fixed_in else ""
        print(f"pip-audit: {v.package} {v.version}: {v.advisory}{fixed}", file=sys.stderr)
    print(f"pip-audit: {facts.packages} packages audited, {len(facts.vulnerabilities)} known vulnerabilities")
    return 1 if facts.vulnerabilities else 0


if __name__ == "__main__":
    sys.exit(main())
