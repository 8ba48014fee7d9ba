"""Known vulnerable dependencies: pip-audit over the running environment against the PyPI advisory
service, its answer cached for a day under var/posture/ (mode 0600) so that the daily self-audit and
the operators' runs cost one query a day. Unreachable, timed out, or answered for no package: the
check says `not checked` and why, and that answer is kept for an hour only."""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404: runs pip-audit, a fixed argument list from this module, never a shell
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from clearguard.posture.facts import DependencyFacts, Unavailable, Vulnerability

RESULT_TTL: Final = timedelta(days=1)
NOT_CHECKED_TTL: Final = timedelta(hours=1)
CACHE_NAME: Final = "pip-audit.json"

# (argv, timeout in seconds) -> (exit code, stdout, stderr)
Runner = Callable[[Sequence[str], float], tuple[int, str, str]]


def run_process(argv: Sequence[str], timeout_s: float) -> tuple[int, str, str]:
    # argv is pip_audit_argv's fixed command (this interpreter, no shell), never user input.
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout_s, check=False)  # noqa: S603  # nosec B603
    return done.returncode, done.stdout, done.stderr


def pip_audit_argv(timeout_s: float) -> list[str]:
    return [
        sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off",
        "--vulnerability-service", "pypi", "--timeout", str(int(max(1, timeout_s))), "--skip-editable",
    ]  # fmt: skip


def parse_pip_audit(document: dict[str, Any], checked_at: datetime) -> DependencyFacts | Unavailable:
    """pip-audit's JSON (`{"dependencies": [{"name", "version", "vulns": [...]}|{"name", "skip_reason"}]}`)."""
    dependencies = document.get("dependencies")
    if not isinstance(dependencies, list):
        return Unavailable("pip-audit's answer has no dependency list")
    audited = [d for d in dependencies if isinstance(d, dict) and "skip_reason" not in d]
    if dependencies and not audited:
        first = dependencies[0].get("skip_reason", "") if isinstance(dependencies[0], dict) else ""
        return Unavailable(
            f"the PyPI advisory service answered for none of the {len(dependencies)} packages (e.g. {first})"
        )
    found = tuple(
        Vulnerability(
            str(d.get("name")),
            str(d.get("version")),
            str(v.get("id")),
            tuple(str(f) for f in v.get("fix_versions") or ()),
        )
        for d in audited
        for v in d.get("vulns") or ()
        if isinstance(v, dict)
    )
    return DependencyFacts(checked_at, len(audited), found, cached=False)


class DependencyAudit:
    def __init__(self, cache_dir: Path, *, timeout_s: float = 60.0, runner: Runner = run_process) -> None:
        self.cache = cache_dir / CACHE_NAME
        self.timeout_s = timeout_s
        self._runner = runner

    def facts(self, now: datetime) -> DependencyFacts | Unavailable:
        cached = self._cached(now)
        if cached is not None:
            return cached
        result = self._run(now)
        self._store(result, now)
        return result

    def _run(self, now: datetime) -> DependencyFacts | Unavailable:
        try:
            code, out, err = self._runner(pip_audit_argv(self.timeout_s), self.timeout_s * 4)
        except subprocess.TimeoutExpired:
            return Unavailable(f"pip-audit took longer than {self.timeout_s * 4:.0f} s")
        except OSError as exc:
            return Unavailable(f"pip-audit could not start: {exc}")
        # 0: nothing found, 1: vulnerabilities found (or a crash: then stdout holds no JSON).
        lines = [line for line in err.strip().splitlines() if line.strip()]
        failed = f"pip-audit failed: {lines[-1][:300] if lines else f'exit {code}'}"
        if code not in (0, 1):
            return Unavailable(failed)
        try:
            document = json.loads(out)
        except ValueError:
            return Unavailable(failed)
        if not isinstance(document, dict):
            return Unavailable("pip-audit's answer is not a JSON object")
        return parse_pip_audit(document, now)

    def _cached(self, now: datetime) -> DependencyFacts | Unavailable | None:
        try:
            body = json.loads(self.cache.read_text())
            at = datetime.fromisoformat(body["at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if "not_checked" in body:
            return Unavailable(str(body["not_checked"])) if now - at < NOT_CHECKED_TTL else None
        if now - at >= RESULT_TTL:
            return None
        vulns = tuple(
            Vulnerability(v["package"], v["version"], v["advisory"], tuple(v["fixed_in"]))
            for v in body["vulnerabilities"]
        )
        return DependencyFacts(at, int(body["packages"]), vulns, cached=True)

    def _store(self, result: DependencyFacts | Unavailable, now: datetime) -> None:
        body: dict[str, Any] = {"at": now.astimezone(UTC).isoformat()}
        if isinstance(result, Unavailable):
            body["not_checked"] = result.why
        else:
            body["packages"] = result.packages
            body["vulnerabilities"] = [
                {"package": v.package, "version": v.version, "advisory": v.advisory, "fixed_in": list(v.fixed_in)}
                for v in result.vulnerabilities
            ]
        write_private(self.cache, json.dumps(body, indent=1))


def write_private(path: Path, text: str) -> None:
    """`text` to `path`, mode 0600 whatever the umask, atomically (a reader never sees half of it).

    The temporary file gets a random name created exclusively (mkstemp: O_EXCL, never through a
    symlink someone planted in a shared folder such as /tmp), and its mode is set on the open file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
