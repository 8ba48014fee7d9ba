"""`clearguard risk ...` through Typer's runner, on both databases."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.risk import tables as risk_tables
from clearguard.risk.commands import risk_app
from clearguard.risk.kcs import COLUMNS
from clearguard.risk.service import RiskService, clear_model_cache
from tests.helpers import KCS

TRAIN = KCS / "train.csv"
runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    assert risk_tables.RiskModelRow.__tablename__
    clear_model_cache()
    init_keys(Settings(var_dir=tmp_path / "var"))  # `risk outcome` gets its services from clearguard.wiring
    return {
        "CLEARGUARD_DATABASE_URL": database_url,
        "CLEARGUARD_VAR_DIR": str(tmp_path / "var"),
        "CLEARGUARD_RISK_NUM_THREADS": "1",
    }


def small_csv(tmp_path: Path, lines: int = 3000) -> Path:
    with TRAIN.open(encoding="utf-8") as handle:
        head = [next(handle) for _ in range(lines + 1)]
    bad = head[5].split(",")
    bad[COLUMNS.index("HS6 Code")] = "12"
    bad[0] = "999999999"
    head.append(",".join(bad))
    head.append("1,2,3\n")
    path = tmp_path / "history.csv"
    path.write_text("".join(head), encoding="utf-8")
    return path


def test_import_lists_rejected_rows_and_is_idempotent(env: dict[str, str], tmp_path: Path) -> None:
    path = small_csv(tmp_path, 300)
    first = runner.invoke(risk_app, ["history", "import", "--format", "kcs", str(path), "--json"], env=env)
    assert first.exit_code == 1, first.output
    data = json.loads(first.stdout)
    assert (data["read"], data["inserted"], data["already_present"]) == (302, 300, 0)
    assert [r["line"] for r in data["rejected"]] == [302, 303]
    assert "HS6 Code" in data["rejected"][0]["reason"]
    again = runner.invoke(risk_app, ["history", "import", "--format", "kcs", str(path)], env=env)
    assert again.exit_code == 1
    assert "0 imported, 300 already present, 2 rejected" in again.stdout
    assert "302" in again.stdout


def test_unreadable_file_is_exit_2_without_a_trace(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(risk_app, ["history", "import", "--format", "kcs", str(path)], env=env)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    missing = runner.invoke(risk_app, ["evaluate", "--format", "kcs", str(tmp_path / "none.csv")], env=env)
    assert missing.exit_code == 2


def test_train_evaluate_outcome_report(
    env: dict[str, str], tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    path = small_csv(tmp_path, 3000)
    runner.invoke(risk_app, ["history", "import", "--format", "kcs", str(path)], env=env)
    trained = runner.invoke(risk_app, ["train", "--holdout", "0.2", "--json"], env=env)
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["model"] == "v1"
    no_model = runner.invoke(risk_app, ["evaluate", "--format", "kcs", str(path), "--model", "v9"], env=env)
    assert no_model.exit_code == 1 and "v9" in no_model.output
    plot = tmp_path / "curve.png"
    evaluated = runner.invoke(
        risk_app,
        ["evaluate", "--format", "kcs", str(path), "--model", "v1", "--json", "--plot", str(plot)],
        env=env,
    )
    assert evaluated.exit_code == 0, evaluated.output
    doc = json.loads(evaluated.stdout)
    assert doc["model"] == "v1" and doc["lines"] == 3000
    assert plot.read_bytes().startswith(b"\x89PNG")
    settings = Settings(var_dir=Path(env["CLEARGUARD_VAR_DIR"]), database_url=env["CLEARGUARD_DATABASE_URL"])
    service = RiskService(settings, rng=random.Random(2))
    with session_factory() as session, session.begin():
        assessment = service.assess(session, service.history(session)[:1])
    recorded = runner.invoke(
        risk_app,
        ["outcome", assessment.declaration_ref, "--violation", "--duty-recovered", "10", "--json"],
        env=env,
    )
    assert recorded.exit_code == 0, recorded.output
    assert json.loads(recorded.stdout)["history_lines_added"] == 1
    twice = runner.invoke(risk_app, ["outcome", assessment.declaration_ref, "--no-violation"], env=env)
    assert twice.exit_code == 1 and "already recorded" in twice.output
    report = runner.invoke(risk_app, ["report", "--json"], env=env)
    rows = json.loads(report.stdout)["rows"]
    assert sum(r["outcomes"] for r in rows) == 1 and rows[0]["hit_rate"] == 1.0
    shown = runner.invoke(risk_app, ["show", assessment.declaration_ref, "--json"], env=env)
    assert json.loads(shown.stdout)["channel"] == assessment.channel
    confirmed = runner.invoke(risk_app, ["confirm", assessment.declaration_ref, "--channel", "red", "--json"], env=env)
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.stdout)["confirmed_channel"] == "red"
    listed = runner.invoke(risk_app, ["models", "--json"], env=env)
    assert [m["model"] for m in json.loads(listed.stdout)["models"]] == ["v1"]
