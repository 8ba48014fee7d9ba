"""Export of the rules in force for a SIEM: the Sigma YAML files as they are, one folder per source.

pySigma ships no query backend of its own (backends are separate plugins, fetched online), so the
export is the rules themselves, which every Sigma-capable SIEM converts with its own backend.
"""

from __future__ import annotations

import os
from pathlib import Path

from clearguard.detection.errors import DetectionInputError
from clearguard.detection.ruleset import RuleSet, shipped_rules_dir


def export_rules(rules: RuleSet, target: Path) -> list[Path]:
    """Copy every rule file into `target` (which must be empty or new); the written paths."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DetectionInputError(f"target: {target} exists and is not an empty folder", field="target")
    shipped = shipped_rules_dir()
    written: list[Path] = []
    for source in rules.files:
        folder = "clearguard" if source.is_relative_to(shipped) else "local"
        root = shipped if folder == "clearguard" else _root_of(source, rules)
        dest = target / folder / source.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        written.append(dest)
    (target / "VERSION").write_text(rules.version + "\n", encoding="utf-8")
    return written


def _root_of(source: Path, rules: RuleSet) -> Path:
    # An administration folder: the deepest common folder of its files keeps their layout.
    local = [p for p in rules.files if not p.is_relative_to(shipped_rules_dir())]
    return Path(os.path.commonpath([p.parent for p in local])) if local else source.parent
