"""Rule packs: versioned YAML files of rules, loaded, checked and compiled once.

A pack is a folder `packs/<name>/` holding one `<version>.yaml` per version; each version states the
date it takes effect, and the newest version in effect on a date applies. A path to a single file or
a folder of versions can be given instead of a name. Everything a rule may change without code (on or
off, severity, message, thresholds, lists) is in the YAML; what each check does is in code, under the
name the YAML refers to (clearguard.compliance.checks).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clearguard.compliance.checks import REGISTRY
from clearguard.compliance.checks.base import COMMON_PLACEHOLDERS, Evaluator, Params
from clearguard.compliance.errors import RulePackError
from clearguard.compliance.findings import Finding, Severity
from clearguard.compliance.reference import ReferenceData, reference_data
from clearguard.user_files import load_yaml

PACKS_PACKAGE = "clearguard.compliance.packs"
RULE_ID = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"


class _RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=RULE_ID)
    check: str
    severity: Severity
    message: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    description: str | None = None

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        if isinstance(value, str) and value in Severity.__members__.values():
            return Severity(value)
        raise ValueError(f"{value!r} is not one of {', '.join(s.value for s in Severity)}")


class _PackHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack: str | None = None
    version: str
    effective_from: date
    description: str | None = None
    rules: list[Any] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _quoted_version(cls, value: object) -> object:
        if not isinstance(value, str) or not value:
            # YAML reads 2026.1 as a float and would turn 2026.10 into 2026.1
            raise ValueError('must be a quoted string such as "2026.1"')
        return value


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: str
    severity: Severity
    message: str
    run: Evaluator
    params: Params | None = None  # the check's validated params, for callers that apply them alone

    def finding(self, pointer: str, values: dict[str, object]) -> Finding:
        try:
            message = self.message.format_map(
                {**values, "field": pointer, "rule_id": self.id, "severity": self.severity.value}
            )
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            # a template that passed loading but cannot format these values must not hide the finding
            message = f"{pointer}: breaks rule {self.id} ({self.check})"
        return Finding(self.id, self.severity, pointer, message)


@dataclass(frozen=True, slots=True)
class RulePack:
    """One version of a pack, compiled: its enabled rules in file order."""

    name: str
    version: str
    effective_from: date
    rules: tuple[Rule, ...]
    source: str
    rule_ids: tuple[str, ...]  # every rule in the file, enabled or not

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class RulePackSet:
    """Every version of one pack; picks the version in effect on a date."""

    name: str
    versions: tuple[RulePack, ...]  # oldest first

    def in_effect(self, on: date) -> RulePack:
        for pack in reversed(self.versions):
            if pack.effective_from <= on:
                return pack
        raise RulePackError(
            f"rule pack {self.name!r}: no version is in effect on {on.isoformat()} "
            f"(earliest takes effect {self.versions[0].effective_from.isoformat()})"
        )


def _version_key(pack: RulePack) -> tuple[date, tuple[tuple[int, str], ...]]:
    # numeric parts compare as numbers, so 2026.10 comes after 2026.9
    parts = tuple((int(p), "") if p.isdigit() else (-1, p) for p in pack.version.split("."))
    return pack.effective_from, parts


def _where(errors: Iterable[Any], prefix: str = "") -> str:
    """The first pydantic error as "key 'a.b': what is wrong", in the words of a YAML author."""
    error = next(iter(errors))
    key = prefix + ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown key (misspelt, or not used here)"
    elif error["type"] == "missing":
        message = "required key is missing"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    return f"key {key!r}: {message}"


def _check_template(source: str, rule_id: str, template: str, allowed: frozenset[str]) -> None:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise RulePackError(f"{source}: rule {rule_id}: key 'message': bad template ({exc})") from None
    for _literal, field_name, _spec, _conversion in parsed:
        if field_name is None:
            continue
        root = field_name.split(".", 1)[0].split("[", 1)[0]
        if root not in allowed:
            raise RulePackError(
                f"{source}: rule {rule_id}: key 'message': unknown placeholder {{{field_name}}} "
                f"(this check offers {', '.join(sorted(allowed))})"
            )


def _compile_rule(source: str, index: int, raw: object, ref: ReferenceData) -> tuple[str, Rule | None]:
    label = f"rule #{index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label = f"rule {raw['id']}"
    if not isinstance(raw, dict):
        raise RulePackError(f"{source}: {label}: must be a mapping of id, check, severity, message, params")
    try:
        spec = _RuleSpec.model_validate(raw)
    except ValidationError as exc:
        raise RulePackError(f"{source}: {label}: {_where(exc.errors())}") from None
    check = REGISTRY.get(spec.check)
    if check is None:
        raise RulePackError(
            f"{source}: rule {spec.id}: key 'check': unknown check {spec.check!r} "
            f"(known: {', '.join(sorted(REGISTRY))})"
        )
    try:
        params = check.params.model_validate(spec.params)
    except ValidationError as exc:
        raise RulePackError(f"{source}: rule {spec.id}: {_where(exc.errors(), 'params.')}") from None
    _check_template(source, spec.id, spec.message, check.placeholders | COMMON_PLACEHOLDERS)
    if not spec.enabled:
        return spec.id, None
    try:
        run = check.factory(params, ref)
    except ValueError as exc:  # params that only the reference data can judge (e.g. country codes)
        raise RulePackError(f"{source}: rule {spec.id}: key 'params': {exc}") from None
    return spec.id, Rule(spec.id, spec.check, spec.severity, spec.message, run, params)


def parse_pack(text: str, source: str, default_name: str, ref: ReferenceData | None = None) -> RulePack:
    """Check and compile one pack version from its YAML text; `source` names it in errors."""
    try:
        document = load_yaml(text)
    except yaml.YAMLError as exc:
        raise RulePackError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(document, dict):
        raise RulePackError(f"{source}: must be a mapping with version, effective_from and rules")
    # x-* keys hold shared values that rules reference through YAML anchors; they are not rules
    document = {key: value for key, value in document.items() if not str(key).startswith("x-")}
    try:
        header = _PackHeader.model_validate(document)
    except ValidationError as exc:
        raise RulePackError(f"{source}: {_where(exc.errors())}") from None
    ref = ref or reference_data()
    rules: list[Rule] = []
    ids: list[str] = []
    for index, raw in enumerate(header.rules):
        rule_id, rule = _compile_rule(source, index, raw, ref)
        if rule_id in ids:
            raise RulePackError(f"{source}: rule {rule_id}: key 'id': appears twice in the pack")
        ids.append(rule_id)
        if rule is not None:
            rules.append(rule)
    return RulePack(
        header.pack or default_name, header.version, header.effective_from, tuple(rules), source, tuple(ids)
    )


def load_pack_file(path: Path | str) -> RulePack:
    """One pack version from a YAML file; its name is the pack key or the folder's name."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(f"{path}: cannot read rule pack ({exc.__class__.__name__})") from None
    return parse_pack(text, str(path), path.parent.name)


def _pack_set(name: str, files: Sequence[tuple[str, str]]) -> RulePackSet:
    if not files:
        raise RulePackError(f"rule pack {name!r}: no version files (*.yaml) found")
    packs = sorted((parse_pack(text, source, name) for source, text in files), key=_version_key)
    seen: dict[str, str] = {}
    for pack in packs:
        if pack.version in seen:
            raise RulePackError(f"{pack.source}: key 'version': {pack.version} also in {seen[pack.version]}")
        seen[pack.version] = pack.source
    return RulePackSet(name, tuple(packs))


def _yaml_files(folder: Traversable) -> list[tuple[str, str]]:
    return sorted(
        (f"{folder.name}/{entry.name}", entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith((".yaml", ".yml"))
    )


@lru_cache(maxsize=8)
def shipped_pack(name: str) -> RulePackSet:
    """A pack shipped in the package (`packs/<name>/`), loaded once per process."""
    if not name.isidentifier():
        raise RulePackError(f"rule pack {name!r}: not a pack name (letters, digits, underscores)")
    folder = resources.files(PACKS_PACKAGE).joinpath(name)
    if not folder.is_dir():
        raise RulePackError(f"rule pack {name!r}: no such pack shipped with ClearGuard")
    return _pack_set(name, _yaml_files(folder))


def load_rule_packs(name_or_path: str | Path) -> RulePack | RulePackSet:
    """A shipped pack by name, every version in a folder, or exactly the one version in a file.

    A single file applies as it is, whatever its effective date: whoever points at a file means it.
    """
    text = str(name_or_path)
    path = Path(text)
    if isinstance(name_or_path, Path) or "/" in text or "\\" in text or text.endswith((".yaml", ".yml")):
        if path.is_dir():
            try:
                files = [
                    (str(p), p.read_text("utf-8"))
                    for p in sorted(path.iterdir())
                    if p.is_file() and p.suffix in (".yaml", ".yml")
                ]
            except (OSError, UnicodeDecodeError) as exc:
                raise RulePackError(f"{path}: cannot read rule pack ({exc.__class__.__name__})") from None
            return _pack_set(path.name, files)
        return load_pack_file(path)
    return shipped_pack(text)
