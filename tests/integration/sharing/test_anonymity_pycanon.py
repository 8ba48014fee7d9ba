"""Statistical releases cross-checked against pyCANON (the reference implementation of k-anonymity
and l-diversity checks), run in its own virtual environment (`make pycanon`: it pins an older numpy
than the project's lock) on the released CSV: its k and l must equal the verifier's.

The datasets are real-shaped declaration lines: the synthetic Korean import declarations in
shared/data/kcs (SOURCE.md there), read by a line source with the declarations service's interface.
Their fields map onto a line as: HS6 Code (integer in places: zero-padded back to 6 digits) ->
hs_code, Date -> date, Item Price -> statistical_value, Net Mass -> net_mass, Office ID -> office
(as a Korean office, KR + 6 digits), Country of Origin / Departure -> origin / dispatch_country,
Import Type + Import Use -> procedure, Mode of Transport -> transport_mode, Country of Origin
Indicator -> preferential_origin.
"""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clearguard.declarations import Actor
from clearguard.sharing.statistics_command import statistics_release
from tests.helpers import KCS

PYCANON = Path(__file__).resolve().parents[3] / ".venv-pycanon" / "bin" / "python"
SCRIPT = Path(__file__).with_name("pycanon_check.py")
pytestmark = pytest.mark.skipif(
    not PYCANON.exists(), reason=f"pyCANON's virtual environment {PYCANON.parent.parent} is absent: run `make pycanon`"
)


class KcsLines:
    """KCS declaration lines with the interface of DeclarationService.statistical_lines."""

    def __init__(self, name: str, *, every: int = 1, office: str | None = None) -> None:
        self.lines: list[dict[str, Any]] = []
        with (KCS / name).open(newline="") as file:
            for number, row in enumerate(csv.DictReader(file)):
                if number % every or (office is not None and row["Office ID"] != office):
                    continue
                self.lines.append(
                    {
                        "hs_code": row["HS6 Code"].zfill(6),
                        "date": row["Date"],
                        "statistical_value": row["Item Price"],
                        "net_mass": row["Net Mass"],
                        "office": "KR" + row["Office ID"].zfill(6),
                        "origin_country": row["Country of Origin"],
                        "dispatch_country": row["Country of Departure"] or None,
                        "procedure": row["Import Type"] + row["Import Use"],
                        "transport_mode": row["Mode of Transport"],
                        "preferential_origin": row["Country of Origin Indicator"] or None,
                    }
                )

    def statistical_lines(
        self, since: datetime, until: datetime, *, actor: Actor | None = None
    ) -> list[dict[str, Any]]:
        low, high = since.date().isoformat(), until.date().isoformat()
        return [line for line in self.lines if low <= line["date"] < high]


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


DATASETS = [
    # (file, every n-th line, office, k, l, sensitive, since, until)
    ("train.csv", 10, None, 5, 2, "procedure", "2020-01-01", "2021-01-01"),
    ("train.csv", 4, "30", 10, 3, "transport_mode", "2020-03-01", "2020-09-01"),
    ("valid.csv", 2, None, 5, 2, "preferential_origin", "2021-01-01", "2021-04-01"),
    ("valid.csv", 1, "20", 3, 3, "procedure", "2021-02-01", "2021-03-01"),
    ("train.csv", 25, None, 20, 4, "transport_mode", "2020-01-01", "2021-01-01"),
]


@pytest.mark.parametrize(("name", "every", "office", "k", "l", "sensitive", "since", "until"), DATASETS)
def test_pycanon_agrees_with_the_verifier(
    tmp_path: Path,
    name: str,
    every: int,
    office: str | None,
    k: int,
    l: int,  # noqa: E741
    sensitive: str,
    since: str,
    until: str,
) -> None:
    source = KcsLines(name, every=every, office=office)
    out = tmp_path / "release.csv"
    release = statistics_release(
        source, agreement="AGR-KR-1", k=k, l=l, sensitive=sensitive, since=day(since), until=day(until), out=out
    )
    report = json.loads(out.with_suffix(".json").read_text())
    assert report == release.report and out.read_bytes() == release.csv
    quasi = list(report["quasi_identifiers"])
    found = subprocess.run(
        [str(PYCANON), str(SCRIPT), str(out), sensitive, *quasi],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    canon = json.loads(found.stdout)
    verifier = report["verifier"]
    assert (canon["k"], canon["l"]) == (verifier["k"], verifier["l"]), (canon, verifier)
    assert canon["rows"] == report["rows"]["released"] == verifier["rows"]
    assert canon["k"] >= k and canon["l"] >= l
    assert report["rows"]["suppressed"] <= report["rows"]["suppression_limit"]


def test_pycanon_sees_a_release_broken_by_hand_as_the_verifier_does(tmp_path: Path) -> None:
    """The cross-check can fail: a row moved to a class of its own is k = 1 for both."""
    source = KcsLines("valid.csv", every=4)
    out = tmp_path / "release.csv"
    release = statistics_release(
        source, agreement="AGR-KR-1", k=5, l=2, sensitive="procedure", since=day("2021-01-01"),
        until=day("2021-04-01"), out=out,
    )  # fmt: skip
    quasi = list(release.report["quasi_identifiers"])
    rows = list(csv.reader(out.read_text().splitlines()))
    rows[1][0] = "999999"  # an HS code no other row has, whatever the level chosen
    broken = tmp_path / "broken.csv"
    with broken.open("w", newline="") as file:
        csv.writer(file, lineterminator="\r\n").writerows(rows)
    from clearguard.sharing.anonymity_check import verify_csv

    verdict = verify_csv(broken.read_bytes(), quasi_identifiers=quasi, sensitive="procedure", k=5, l=2)
    found = subprocess.run(
        [str(PYCANON), str(SCRIPT), str(broken), "procedure", *quasi], capture_output=True, text=True, check=True
    )
    canon = json.loads(found.stdout)
    assert not verdict.ok and verdict.k == 1 == canon["k"] and canon["l"] == verdict.l == 1
