"""`make asvs`: OWASP ASVS 5.0 Level 2 coverage of ClearGuard's tests.

Reads the requirement list (docs/asvs/, the OWASP CSV export, CC BY-SA 4.0), the requirements judged
not applicable with their reasons (docs/asvs/not-applicable.yaml), and the tests' markers
(`@pytest.mark.asvs("V6.2.1", ...)` on a test function or class, or a module's `pytestmark`), read
from the test files' syntax trees (no test is imported or run). Prints the Level 2 requirements
(levels 1 and 2) covered by a test out of those that apply, the ones not applicable with the reason,
and the rest. Exit 2 when a marker or the YAML names an id the standard does not have."""

from __future__ import annotations

import argparse
import ast
import csv
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CSV_PATH = ROOT / "docs" / "asvs" / "OWASP_Application_Security_Verification_Standard_5.0.0_en.csv"
NA_PATH = ROOT / "docs" / "asvs" / "not-applicable.yaml"
TESTS = ROOT / "tests"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: int
    chapter: str
    text: str


def requirements(path: Path = CSV_PATH) -> dict[str, Requirement]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            row["req_id"]: Requirement(row["req_id"], int(row["L"]), row["chapter_name"], row["req_description"])
            for row in csv.DictReader(handle)
        }


def _asvs_ids(node: ast.expr) -> list[str]:
    """The ids of `pytest.mark.asvs(...)` (or a list/tuple of marks) in an expression."""
    if isinstance(node, ast.List | ast.Tuple):
        return [i for element in node.elts for i in _asvs_ids(element)]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "asvs"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "mark"
    ):
        return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []


def markers(tests: Path = TESTS) -> dict[str, list[str]]:
    """requirement id -> the tests (path::name) that carry it."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(tests.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(tests.parent)
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
            ):
                for rid in _asvs_ids(node.value):
                    found[rid].append(f"{where}")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for decorator in node.decorator_list:
                    for rid in _asvs_ids(decorator):
                        found[rid].append(f"{where}::{node.name}")
    return dict(found)


def not_applicable(path: Path = NA_PATH) -> dict[str, str]:
    body = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in body.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", type=int, default=2, choices=(1, 2, 3), help="the ASVS level (default 2)")
    parser.add_argument("--json", action="store_true", help="print the figures and lists as JSON")
    args = parser.parse_args(argv)
    reqs = requirements()
    marks = markers()
    na = not_applicable()
    unknown = sorted(set(marks) - set(reqs)) + sorted(set(na) - set(reqs))
    if unknown:
        print(f"error: not ASVS 5.0 requirement ids: {', '.join(unknown)}", file=sys.stderr)
        return 2
    scope = [r for r in reqs.values() if r.level <= args.level]
    excluded = [r for r in scope if r.id in na]
    applicable = [r for r in scope if r.id not in na]
    covered = [r for r in applicable if r.id in marks]
    rest = [r for r in applicable if r.id not in marks]
    both = sorted(r.id for r in excluded if r.id in marks)
    share = 100.0 * len(covered) / len(applicable) if applicable else 0.0
    if args.json:
        print(json.dumps({
            "level": args.level, "in_scope": len(scope), "not_applicable": len(excluded), "applicable": len(applicable),
            "covered": len(covered), "covered_ids": {r.id: marks[r.id] for r in covered},
            "not_applicable_ids": {r.id: na[r.id] for r in excluded}, "uncovered_ids": [r.id for r in rest],
        }, indent=2))  # fmt: skip
        return 0
    print(f"OWASP ASVS 5.0, Level {args.level}: {len(scope)} requirements, {len(excluded)} not applicable")
    print(f"covered by a test: {len(covered)} of {len(applicable)} applicable ({share:.1f}%)")
    print()
    print(f"Covered ({len(covered)}):")
    for r in covered:
        tests = marks[r.id]
        print(f"  {r.id:<8} {len(tests)} test{'s' if len(tests) != 1 else ''}: {tests[0]}")
    print()
    print(f"Not applicable ({len(excluded)}):")
    for r in excluded:
        print(f"  {r.id:<8} {na[r.id]}")
    print()
    print(f"Not covered by a test yet ({len(rest)}):")
    for r in rest:
        print(f"  {r.id:<8} L{r.level} {r.text[:100]}")
    if both:
        print(f"\nwarning: marked by tests but listed as not applicable: {', '.join(both)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
