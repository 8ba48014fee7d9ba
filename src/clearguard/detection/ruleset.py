"""The rule set: Sigma rules read and validated by pySigma, compiled for the matcher and correlations.

Rules come from the folder shipped in the package (`clearguard/detection/rules/`, versioned by its
`version.txt`) and from an administration's own folder (setting `detection_rules_dir`). pySigma
parses every file (detections, conditions, modifiers, correlation rules) and resolves references
across files; this module then refuses what ClearGuard cannot evaluate faithfully: another log
source, a field no activity event has, a correlation condition that only an ended stream can decide
(lt, lte, neq), an unknown setting. A rule file is refused whole, naming the file and the rule.

ClearGuard's own attributes sit under a `clearguard` key, which Sigma allows as a custom attribute
and SIEMs ignore:
    clearguard:
      kind: brute_force           # what it detects (alerts are counted per kind)
      finding: alert | notice     # default: notice for informational/low, alert above
      explain: "{count} failed logins on one account within {window}"
      settings: {count: brute_force_failures, timespan: brute_force_window_s}   # DetectionConfig fields
A base rule's `settings` maps a compared field (speed_kmh) to the setting that overrides its number.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

from sigma.collection import SigmaCollection
from sigma.conditions import ConditionOR
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from clearguard.detection.correlate import Correlation, CorrelationSpec, CorrelationType, Firing, Operator
from clearguard.detection.enrich import ENRICHED_FIELDS, EnrichedEvent
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.events import ACTIONS, FIELDS, OUTCOMES
from clearguard.detection.hits import Level, RuleHit, Severity
from clearguard.detection.matcher import Predicate, UnsupportedRule, compile_condition, conjuncts, fields_of
from clearguard.detection.thresholds import DetectionConfig
from clearguard.errors import InputError
from clearguard.user_files import read_limited

KNOWN_FIELDS: frozenset[str] = frozenset(FIELDS) | frozenset(ENRICHED_FIELDS)
LOGSOURCE = {"product": "clearguard", "category": "activity"}
MAX_RULE_FILE_BYTES = 1_000_000
_SEVERITY: dict[str, Severity] = {
    "informational": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}
_TYPES: dict[SigmaCorrelationType, CorrelationType] = {
    SigmaCorrelationType.EVENT_COUNT: "event_count",
    SigmaCorrelationType.VALUE_COUNT: "value_count",
    SigmaCorrelationType.VALUE_SUM: "value_sum",
    SigmaCorrelationType.TEMPORAL: "temporal",
    SigmaCorrelationType.TEMPORAL_ORDERED: "temporal_ordered",
}
_OPS: dict[SigmaCorrelationConditionOperator, Operator] = {
    SigmaCorrelationConditionOperator.GT: "gt",
    SigmaCorrelationConditionOperator.GTE: "gte",
    SigmaCorrelationConditionOperator.EQ: "eq",
}
_ATTRIBUTE_KEYS = frozenset({"kind", "finding", "explain", "settings"})
_EXPLAIN_KEYS = frozenset(
    {"count", "window", "actors", "sources", "group", "actor", "source", "action", "speed_kmh", "distance_km"}
    | {"city", "country", "hour", "title", "exported_today", "export_growth", "off_hours_h"}
)


def shipped_rules_dir() -> Path:
    return Path(str(resources.files("clearguard.detection") / "rules"))


def window_text(seconds: float) -> str:
    s = int(seconds)
    if s % 86400 == 0:
        return f"{s // 86400} d"
    if s % 3600 == 0:
        return f"{s // 3600} h"
    if s % 60 == 0:
        return f"{s // 60} min"
    return f"{s} s"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.0f}"


@dataclass(frozen=True)
class RuleInfo:
    """What `detection rules` lists about one rule."""

    name: str
    title: str
    id: str | None
    type: str  # "detection" or the correlation type
    kind: str
    level: Level
    severity: Severity
    emits: bool  # raises findings itself (not only feeds a correlation)
    references: tuple[str, ...]
    group_by: tuple[str, ...]
    window_s: float | None
    condition: str | None
    settings: Mapping[str, tuple[str, float, float]]  # what -> (setting, value in the YAML, value in force)
    file: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "id": self.id,
            "type": self.type,
            "kind": self.kind,
            "level": self.level,
            "severity": self.severity,
            "emits": self.emits,
            "references": list(self.references),
            "group_by": list(self.group_by),
            "window_s": self.window_s,
            "condition": self.condition,
            "settings": {k: {"setting": s, "rule": r, "in_force": v} for k, (s, r, v) in self.settings.items()},
            "file": self.file,
            "description": self.description,
        }


@dataclass(frozen=True)
class _Base:
    info: RuleInfo
    predicate: Predicate  # the conjuncts the index does not decide
    explain: str
    keys: frozenset[tuple[str, str]]  # the (action, outcome) pairs it may match


# Nearly every rule names actions and outcomes; deciding those parts once per pair, when the rules
# load, leaves each event only the rules that can match it.
_INDEXED = frozenset({"action", "outcome"})
_PAIRS = tuple((a, o) for a in sorted(ACTIONS) for o in sorted(OUTCOMES))


@dataclass(frozen=True)
class _Corr:
    info: RuleInfo
    spec: CorrelationSpec
    explain: str


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules; immutable, so one set serves any number of Detectors."""

    version: str
    files: tuple[Path, ...]
    _base: tuple[_Base, ...] = field(repr=False)
    _correlations: tuple[_Corr, ...] = field(repr=False)  # in dependency order

    @property
    def rules(self) -> tuple[RuleInfo, ...]:
        return tuple(b.info for b in self._base) + tuple(c.info for c in self._correlations)

    def evaluator(self) -> RuleEvaluator:
        """Fresh window state for one stream of events."""
        return RuleEvaluator(self)


class RuleEvaluator:
    def __init__(self, rules: RuleSet) -> None:
        self._by_key = {key: tuple(b for b in rules._base if key in b.keys) for key in _PAIRS}
        self._corr = [(c, Correlation(c.spec), frozenset(c.spec.rules)) for c in rules._correlations]

    def evaluate(self, event: EnrichedEvent) -> list[RuleHit]:
        fields = event.fields
        matched: set[str] = set()
        hits: list[RuleHit] = []
        for base in self._by_key.get((event.event.action, event.event.outcome), ()):
            if base.predicate(fields):
                matched.add(base.info.name)
                if base.info.emits:
                    hits.append(_base_hit(base, event))
        if not matched:
            return hits
        for corr, state, wanted in self._corr:
            if wanted.isdisjoint(matched):
                continue
            refs = [r for r in corr.spec.rules if r in matched]
            firing = state.feed(refs, fields, event.at)
            if firing is None:
                continue
            matched.add(corr.info.name)
            if corr.info.emits:
                hits.append(_corr_hit(corr, firing))
        return hits


class _Explain(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fmt(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def _fmt1(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "?"


def _base_hit(base: _Base, event: EnrichedEvent) -> RuleHit:
    f = event.fields
    actor = event.event.actor
    source = event.event.source_ip
    values = _Explain(
        title=base.info.title,
        count="1",
        window="-",
        actors=actor,
        actor=actor,
        sources=source or "?",
        source=source or "?",
        group=f"actor={actor}",
        action=event.event.action,
        speed_kmh=_fmt(f.get("speed_kmh")),
        distance_km=_fmt(f.get("distance_km")),
        city=_fmt(f.get("city")),
        country=_fmt(f.get("country")),
        hour=_fmt(f.get("hour")),
        exported_today=_fmt(f.get("exported_today")),
        export_growth=_fmt1(f.get("export_growth")),
        off_hours_h=_fmt1(f.get("off_hours_h")),
    )
    return RuleHit(
        rule=base.info.name,
        kind=base.info.kind,
        level=base.info.level,
        severity=base.info.severity,
        group=(("actor", actor),),
        actors=(actor,),
        sources=(source,) if source else (),
        first_at=event.at,
        at=event.at,
        explanation=base.explain.format_map(values),
    )


def _safe_group(group: tuple[tuple[str, str], ...]) -> str:
    # Parties and records are business data: an explanation names accounts and addresses only.
    return ", ".join(f"{k}={v}" if k not in ("party", "record") else f"{k}=(one)" for k, v in group)


def _corr_hit(corr: _Corr, firing: Firing) -> RuleHit:
    group = dict(firing.group)
    values = _Explain(
        title=corr.info.title,
        count=_number_text(firing.value),
        window=window_text(corr.spec.window_s),
        actors=", ".join(firing.actors) or "?",
        sources=", ".join(firing.sources) or "?",
        actor=group.get("actor", group.get("subject", ", ".join(firing.actors) or "?")),
        source=group.get("source_ip", ", ".join(firing.sources) or "?"),
        group=_safe_group(firing.group),
    )
    return RuleHit(
        rule=corr.info.name,
        kind=corr.info.kind,
        level=corr.info.level,
        severity=corr.info.severity,
        group=firing.group,
        actors=firing.actors,
        sources=firing.sources,
        first_at=firing.first_at,
        at=firing.at,
        explanation=corr.explain.format_map(values),
    )


# --- loading ---------------------------------------------------------------------------------------


def _fail(where: str, rule: str | None, message: str) -> DetectionInputError:
    prefix = f"{where}: rule {rule}: " if rule else f"{where}: "
    return DetectionInputError(prefix + message, field="rules")


def _rule_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DetectionInputError(f"{folder}: not a folder of rules", field="rules")
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _read_version(folder: Path) -> str | None:
    path = folder / "version.txt"
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def _attributes(rule: SigmaRule | SigmaCorrelationRule, where: str, name: str) -> dict[str, Any]:
    raw = rule.custom_attributes.get("clearguard", {})
    if not isinstance(raw, dict):
        raise _fail(where, name, "clearguard: must be a mapping")
    unknown = sorted(set(raw) - _ATTRIBUTE_KEYS)
    if unknown:
        raise _fail(where, name, f"clearguard.{unknown[0]}: unknown attribute")
    settings = raw.get("settings", {})
    if not isinstance(settings, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in settings.items()
    ):
        raise _fail(where, name, "clearguard.settings: must map names to DetectionConfig settings")
    for target in settings.values():
        if target not in DetectionConfig.model_fields:
            raise _fail(where, name, f"clearguard.settings: {target!r} is not a detection setting")
    finding = raw.get("finding")
    if finding is not None and finding not in ("alert", "notice"):
        raise _fail(where, name, "clearguard.finding: must be alert or notice")
    explain = raw.get("explain")
    if explain is not None:
        if not isinstance(explain, str) or len(explain) > 300:
            raise _fail(where, name, "clearguard.explain: must be a line of at most 300 characters")
        try:
            keys = {f for _, f, _, _ in string.Formatter().parse(explain) if f is not None}
        except ValueError as exc:
            raise _fail(where, name, f"clearguard.explain: {exc}") from None
        bad = sorted(k for k in keys if k not in _EXPLAIN_KEYS)
        if bad:
            raise _fail(where, name, f"clearguard.explain: {{{bad[0]}}} is not one of {sorted(_EXPLAIN_KEYS)}")
    kind = raw.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise _fail(where, name, "clearguard.kind: must be a string")
    return raw


def _level(rule: SigmaRule | SigmaCorrelationRule, attrs: Mapping[str, Any]) -> tuple[Level, Severity]:
    sigma_level = str(rule.level).lower() if rule.level is not None else "medium"
    severity = _SEVERITY.get(sigma_level, "medium")
    finding = attrs.get("finding")
    if finding is None:
        finding = "notice" if sigma_level in ("informational", "low") else "alert"
    return cast(Level, finding), severity


def _ref_name(ref: Any) -> str:
    """A reference by the referenced rule's name (a reference may use the id)."""
    rule = getattr(ref, "rule", None)
    return str(rule.name) if rule is not None and rule.name else str(ref.reference)


def _setting(config: DetectionConfig, name: str) -> float:
    return float(getattr(config, name))


def _compile_base(rule: SigmaRule, where: str, config: DetectionConfig, emits: bool) -> _Base:
    name = str(rule.name)
    logsource = {"product": rule.logsource.product, "category": rule.logsource.category}
    if logsource != LOGSOURCE:
        raise _fail(where, name, "logsource: must be product: clearguard, category: activity")
    attrs = _attributes(rule, where, name)
    settings: dict[str, str] = attrs.get("settings", {})
    overrides = {fld: _setting(config, target) for fld, target in settings.items()}
    try:
        trees = [c.parsed for c in rule.detection.parsed_condition]
        tree = trees[0] if len(trees) == 1 else ConditionOR(cast(Any, trees))
        compile_condition(tree, KNOWN_FIELDS, overrides)  # refuses what cannot be evaluated
        parts = conjuncts(tree)
        indexed = [compile_condition(p, KNOWN_FIELDS, overrides) for p in parts if fields_of(p) <= _INDEXED]
        rest = [compile_condition(p, KNOWN_FIELDS, overrides) for p in parts if not fields_of(p) <= _INDEXED]
        keys = frozenset((a, o) for a, o in _PAIRS if all(check({"action": a, "outcome": o}) for check in indexed))
        predicate = _all_of(rest)
    except UnsupportedRule as exc:
        raise _fail(where, name, str(exc)) from None
    except SigmaError as exc:
        raise _fail(where, name, str(exc)) from None
    in_yaml = _compared_values(rule)
    for fld in settings:
        if fld not in in_yaml:
            raise _fail(where, name, f"clearguard.settings: {fld} is not compared (gt, gte, lt, lte) in the rule")
    level, severity = _level(rule, attrs)
    info = RuleInfo(
        name=name,
        title=rule.title,
        id=str(rule.id) if rule.id else None,
        type="detection",
        kind=str(attrs.get("kind", name)),
        level=level,
        severity=severity,
        emits=emits,
        references=(),
        group_by=("actor",),
        window_s=None,
        condition="; ".join(rule.detection.condition),
        settings={fld: (target, in_yaml[fld], overrides[fld]) for fld, target in settings.items()},
        file=where,
        description=(rule.description or "").strip(),
    )
    return _Base(info, predicate, attrs.get("explain") or "{title}", keys)


def _all_of(parts: list[Predicate]) -> Predicate:
    if not parts:
        return lambda f: True
    if len(parts) == 1:
        return parts[0]
    return lambda f: all(p(f) for p in parts)


def _compared_values(rule: SigmaRule) -> dict[str, float]:
    from sigma.types import SigmaCompareExpression

    found: dict[str, float] = {}
    for detection in rule.detection.detections.values():
        stack: list[Any] = list(detection.detection_items)
        while stack:
            item = stack.pop()
            if hasattr(item, "detection_items"):
                stack.extend(item.detection_items)
                continue
            for value in item.value:
                if isinstance(value, SigmaCompareExpression) and item.field:
                    found[item.field] = float(value.number.number)
    return found


def _compile_correlation(
    rule: SigmaCorrelationRule, where: str, config: DetectionConfig, emits: bool, names: set[str]
) -> _Corr:
    name = str(rule.name)
    attrs = _attributes(rule, where, name)
    ctype = _TYPES.get(rule.type)
    if ctype is None:
        raise _fail(where, name, f"correlation type {rule.type} is not supported")
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        if ctype in ("temporal", "temporal_ordered"):
            raise _fail(where, name, "extended (boolean) correlation conditions are not supported")
        raise _fail(where, name, "condition: is required")
    op = _OPS.get(condition.op)
    if op is None and ctype not in ("temporal", "temporal_ordered"):
        raise _fail(where, name, f"condition: {condition.op.name.lower()} cannot be decided while events arrive")
    refs = tuple(str(r.reference) for r in rule.rules or ())
    resolved = tuple(_ref_name(r) for r in rule.rules or ())
    for ref in resolved:
        if ref not in names:
            raise _fail(where, name, f"rules: {ref} must be referenced by its name")
    if ctype in ("temporal", "temporal_ordered") and len(refs) < 2:
        raise _fail(where, name, "rules: a temporal correlation needs at least two rules")
    aliases: dict[str, dict[str, str]] = {}
    for alias in rule.aliases:
        mapping: dict[str, str] = {}
        for alias_ref, fld in alias.mapping.items():
            target = _ref_name(alias_ref)
            if fld not in KNOWN_FIELDS:
                raise _fail(where, name, f"aliases.{alias.alias}: {fld} is not a field of activity events")
            mapping[target] = fld
        aliases[alias.alias] = mapping
    group_by = tuple(rule.group_by or ())
    for g in group_by:
        if g not in KNOWN_FIELDS and g not in aliases:
            raise _fail(where, name, f"group-by: {g} is not a field of activity events")
    fieldref = condition.fieldref
    if isinstance(fieldref, list):
        raise _fail(where, name, "condition.field: one field only")
    if fieldref is not None and fieldref not in KNOWN_FIELDS:
        raise _fail(where, name, f"condition.field: {fieldref} is not a field of activity events")
    settings: dict[str, str] = attrs.get("settings", {})
    unknown = sorted(set(settings) - {"count", "timespan"})
    if unknown:
        raise _fail(where, name, f"clearguard.settings: {unknown[0]} (a correlation sets count and timespan)")
    count = float(condition.count)
    window = float(rule.timespan.seconds)
    in_force: dict[str, tuple[str, float, float]] = {}
    if "count" in settings:
        in_force["count"] = (settings["count"], count, _setting(config, settings["count"]))
        count = in_force["count"][2]
    if "timespan" in settings:
        in_force["timespan"] = (settings["timespan"], window, _setting(config, settings["timespan"]))
        window = in_force["timespan"][2]
    level, severity = _level(rule, attrs)
    spec = CorrelationSpec(
        name=name,
        type=ctype,
        rules=resolved,
        group_by=group_by,
        aliases=aliases,
        window_s=window,
        op=op or "gte",
        count=count,
        field=fieldref,
    )
    cond_text = f"{op} {_number_text(count)}" + (f" distinct {fieldref}" if ctype == "value_count" else "")
    if ctype == "value_sum":
        cond_text = f"sum of {fieldref} {op} {_number_text(count)}"
    if ctype in ("temporal", "temporal_ordered"):
        cond_text = (" then " if ctype == "temporal_ordered" else " and ").join(resolved)
    info = RuleInfo(
        name=name,
        title=rule.title,
        id=str(rule.id) if rule.id else None,
        type=ctype,
        kind=str(attrs.get("kind", name)),
        level=level,
        severity=severity,
        emits=emits,
        references=resolved,
        group_by=group_by,
        window_s=window,
        condition=cond_text,
        settings=in_force,
        file=where,
        description=(rule.description or "").strip(),
    )
    return _Corr(info, spec, attrs.get("explain") or "{title}: {count} within {window} ({group})")


def _load_collection(files: Sequence[Path], root_of: Mapping[Path, Path]) -> tuple[SigmaCollection, dict[int, str]]:
    collections: list[SigmaCollection] = []
    where_of: dict[int, str] = {}
    for path in files:
        where = f"{root_of[path].name}/{path.relative_to(root_of[path])}"
        try:
            text = read_limited(path, max_bytes=MAX_RULE_FILE_BYTES, setting="the rule file limit").decode("utf-8")
        except InputError as exc:
            raise DetectionInputError(str(exc), field="rules") from None
        except UnicodeDecodeError as exc:
            raise _fail(where, None, f"not UTF-8 (byte {exc.start})") from None
        try:
            collection = SigmaCollection.from_yaml(text, resolve_references=False)
        except SigmaError as exc:
            raise _fail(where, None, str(exc)) from None
        except Exception as exc:  # YAML errors come as yaml.YAMLError and friends
            raise _fail(where, None, f"not valid YAML ({type(exc).__name__})") from None
        for r in collection.rules:
            where_of[id(r)] = where
        collections.append(collection)
    merged = SigmaCollection.merge(collections, resolve_references=False)
    for rule in merged.rules:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(merged)
            except SigmaError as exc:
                raise _fail(where_of.get(id(rule), "rules"), str(rule.name or rule.title), str(exc)) from None
    return merged, where_of


def load_rules(
    config: DetectionConfig,
    extra_dirs: Iterable[Path] = (),
    *,
    include_shipped: bool = True,
) -> RuleSet:
    """The rule set in force: the shipped folder (unless told not to) and any extra folders."""
    folders = ([shipped_rules_dir()] if include_shipped else []) + [Path(d) for d in extra_dirs]
    files: list[Path] = []
    root_of: dict[Path, Path] = {}
    versions: list[str] = []
    for folder in folders:
        found = _rule_files(folder)
        files.extend(found)
        root_of.update({p: folder for p in found})
        versions.append(_read_version(folder) or folder.name)
    collection, where_of = _load_collection(files, root_of)

    names: set[str] = set()
    bases: list[SigmaRule] = []
    correlations: list[SigmaCorrelationRule] = []
    for rule in collection.rules:
        where = where_of.get(id(rule), "rules")
        if not rule.name:
            raise _fail(where, rule.title, "name: every ClearGuard rule needs a name (correlations refer to it)")
        if rule.name in names:
            raise _fail(where, rule.name, "name: defined twice")
        names.add(str(rule.name))
        if isinstance(rule, SigmaCorrelationRule):
            correlations.append(rule)
        elif isinstance(rule, SigmaRule):
            bases.append(rule)
        else:
            raise _fail(where, rule.name, f"{type(rule).__name__} is not supported")

    referenced: dict[str, bool] = {}  # rule name -> does a referencing correlation say generate?
    for corr in correlations:
        for ref in corr.rules or ():
            target = _ref_name(ref)
            referenced[target] = referenced.get(target, False) or bool(corr.generate)

    def emits(name: str) -> bool:
        return name not in referenced or referenced[name]

    compiled_bases = tuple(
        _compile_base(rule, where_of.get(id(rule), "rules"), config, emits(str(rule.name))) for rule in bases
    )
    compiled_corr = [
        _compile_correlation(rule, where_of.get(id(rule), "rules"), config, emits(str(rule.name)), names)
        for rule in correlations
    ]
    return RuleSet(
        version="+".join(versions),
        files=tuple(files),
        _base=compiled_bases,
        _correlations=_dependency_order(compiled_corr),
    )


def _dependency_order(correlations: list[_Corr]) -> tuple[_Corr, ...]:
    """Correlations that feed others first; a cycle is refused."""
    by_name = {c.info.name: c for c in correlations}
    ordered: list[_Corr] = []
    state: dict[str, int] = {}

    def visit(c: _Corr, trail: tuple[str, ...]) -> None:
        if state.get(c.info.name) == 2:
            return
        if state.get(c.info.name) == 1:
            raise _fail(
                c.info.file, c.info.name, f"rules: correlations refer to each other in a cycle ({' > '.join(trail)})"
            )
        state[c.info.name] = 1
        for ref in c.spec.rules:
            if ref in by_name:
                visit(by_name[ref], (*trail, ref))
        state[c.info.name] = 2
        ordered.append(c)

    for c in correlations:
        visit(c, (c.info.name,))
    return tuple(ordered)
