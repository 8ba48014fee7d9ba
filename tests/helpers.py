"""Test helpers shared across folders."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any


def _find_shared() -> Path:
    """The project's shared/ folder (examples and third-party data, read in place): the one beside
    the checkout in CI, else CLEARGUARD_SHARED_DIR, else the development machine's."""
    candidates = [
        os.environ.get("CLEARGUARD_SHARED_DIR"),
        Path(__file__).resolve().parents[2] / "shared",
        "/work/shared",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "examples").is_dir():
            return Path(candidate)
    raise RuntimeError("shared/ not found beside the checkout: set CLEARGUARD_SHARED_DIR")


SHARED = _find_shared()
EXAMPLES = SHARED / "examples"
KCS = SHARED / "data" / "kcs"
TLOG_VECTORS = SHARED / "data" / "tlog" / "vectors.json"


def example(name: str) -> dict[str, Any]:
    """A fresh copy of one of shared/examples (h1-import.json, h7-low-value.json)."""
    return copy.deepcopy(json.loads((EXAMPLES / name).read_text()))


def secret_box() -> Any:
    """A real SecretBox (AES-256-GCM) under a fresh random key, for identity services built in tests."""
    from clearguard.crypto.secret_box import SecretBox

    return SecretBox(os.urandom(32))


def operator_cli(url: str, folder: Path, monkeypatch: Any, *, quiet_risk: bool = False, **settings: str) -> Path:
    """The environment an operator's `clearguard` runs in, then `clearguard init --no-demo`: the test's
    database, var/ under `folder` (also the working directory), and CLEARGUARD_<NAME> for each of
    `settings`. With quiet_risk there is no random control budget, so a declaration goes to control
    only when a rule says so and every channel is determined (the packaged policy sends ~10% at
    random, which is right in production)."""
    from importlib import resources

    from typer.testing import CliRunner

    from clearguard.cli import app

    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", url)
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(folder / "var"))
    for name, value in settings.items():
        monkeypatch.setenv(f"CLEARGUARD_{name.upper()}", value)
    if quiet_risk:
        policy = (resources.files("clearguard.risk") / "policy.yaml").read_text()
        quiet = policy.replace(
            "default: {red: 0.02, yellow: 0.05, blue: 0.03}", "default: {red: 0.0, yellow: 0.0, blue: 0.0}"
        )
        assert quiet != policy, "the packaged policy's default budget changed: update operator_cli"
        (folder / "policy.yaml").write_text(quiet)
        monkeypatch.setenv("CLEARGUARD_RISK_POLICY_FILE", str(folder / "policy.yaml"))
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(app, ["init", "--no-demo"])
    assert result.exit_code == 0, result.output
    return folder


def give_training(factory: Any, *usernames: str, today: Any, course: str = "data-protection", days: int = 365) -> None:
    """Current training for accounts a test acts as in a privileged role (the gate refuses their
    privileged actions without it). Written directly, not through TrainingService.record, so that no
    audit event, ledger entry or activity shifts what the test counts."""
    from datetime import timedelta

    from clearguard.db import transaction, utcnow
    from clearguard.training import CATALOGUE
    from clearguard.training.tables import CompletionRow, CourseRow

    found = CATALOGUE[course]
    with transaction(factory) as session:
        if session.get(CourseRow, course) is None:
            session.add(
                CourseRow(
                    slug=course,
                    title=found.title,
                    validity_days=found.validity_days,
                    required_for_privileged=found.required_for_privileged,
                )
            )
            session.flush()
        for username in usernames:
            session.add(
                CompletionRow(
                    username=username,
                    course=course,
                    completed_on=today,
                    expires_on=today + timedelta(days=days),
                    certificate="TEST",
                    recorded_by="test",
                    recorded_at=utcnow(),
                )
            )

def import_summary(stdout: str) -> dict[str, Any]:
    """The summary of `clearguard declarations import --json`: the last of its JSON Lines (the ones
    before it report each committed batch)."""
    last = json.loads(stdout.strip().splitlines()[-1])
    assert last.pop("event") == "summary", last
    return dict(last)
