"""Retention policies: loaded, checked, and turned into disposal dates. Pure (no I/O but reading the
policy file).

A policy says, for one jurisdiction, one kind of record and some data categories, from which event a
period runs and on which legal basis. A record's disposal is due at the start of the day after its
period ends (UTC); a record of a country that belongs to no jurisdiction gets the latest due date of
every policy for its kind and category ("the longest period, never none").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clearguard.categories import DataCategory
from clearguard.errors import ConfigurationError
from clearguard.user_files import load_yaml, read_limited

RECORD_KINDS: Final = (
    "declaration",
    "risk_record",
    "party_key",
    "audit_event",
    "ledger_commitment",
    "traveller",
    "activity",
    "exchange",
)
START_EVENTS: Final = ("acceptance", "end_of_year_of_acceptance", "entry", "recorded", "last_record_disposed")
EXTENSIONS: Final = ("appeal", "court_case", "post_clearance_audit")
ANY_JURISDICTION: Final = "*"
INDEFINITE: Final = "indefinite"
# Kinds that must have a policy wherever they are stored, and their categories.
REQUIRED: Final = (
    ("declaration", (DataCategory.CODE, DataCategory.TRADE, DataCategory.CONFIDENTIAL, DataCategory.PERSONAL)),
    ("risk_record", (DataCategory.CONFIDENTIAL,)),
    ("party_key", (DataCategory.PERSONAL,)),
    ("audit_event", (DataCategory.PERSONAL,)),
    ("traveller", (DataCategory.BIOMETRIC,)),
)
# Only what holds no personal or confidential data may be kept without end.
_INDEFINITE_KINDS: Final = frozenset({"ledger_commitment"})
_PERIOD = re.compile(r"^P(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,5})D)?$")
_JURISDICTION = re.compile(r"^[A-Z]{2,8}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PACKAGED: Final = "default.yaml"
_MAX_FILE_BYTES: Final = 1_000_000


class PolicyError(ConfigurationError):
    """A policy file that cannot be used: names the file, the entry and the field."""


@dataclass(frozen=True, slots=True)
class Period:
    years: int
    months: int
    days: int

    @classmethod
    def parse(cls, text: str) -> Period | None:
        """An ISO 8601 duration of years, months and days (`P3Y`, `P30D`, `P1Y6M`), or None for
        `indefinite`."""
        if text == INDEFINITE:
            return None
        match = _PERIOD.fullmatch(text)
        if match is None or text == "P":
            raise ValueError(f"{text!r} is not a period such as P3Y, P30D or P1Y6M, nor {INDEFINITE!r}")
        years, months, days = (int(g) if g else 0 for g in match.groups())
        return cls(years, months, days)

    def after(self, start: date) -> date:
        """`start` plus the period; a day that the target month lacks (29 February) becomes its last."""
        month_index = start.year * 12 + start.month - 1 + self.years * 12 + self.months
        year, month = divmod(month_index, 12)
        month += 1
        last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        return date(year, month, min(start.day, last_day)) + timedelta(days=self.days)

    def __str__(self) -> str:
        parts = [f"{n}{unit}" for n, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if n]
        return "P" + ("".join(parts) or "0D")


class _PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9.-]{1,63}$")
    jurisdiction: str
    record: str
    categories: list[str] = Field(min_length=1)
    start: str
    period: str
    legal_basis: str = Field(min_length=10, max_length=1000)
    extended_by: list[str] = Field(default_factory=list)

    @field_validator("record")
    @classmethod
    def _record(cls, value: str) -> str:
        if value not in RECORD_KINDS:
            raise ValueError(f"unknown record kind {value!r}; known: {', '.join(RECORD_KINDS)}")
        return value

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        known = [c.value for c in DataCategory]
        for name in value:
            if name not in known:
                raise ValueError(f"unknown data category {name!r}; known: {', '.join(known)}")
        return value

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        if value not in START_EVENTS:
            raise ValueError(f"unknown start event {value!r}; known: {', '.join(START_EVENTS)}")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        Period.parse(value)
        return value

    @field_validator("extended_by")
    @classmethod
    def _extended(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in EXTENSIONS:
                raise ValueError(f"unknown extension {name!r}; known: {', '.join(EXTENSIONS)}")
        return value


class _FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    effective_from: date
    jurisdictions: dict[str, list[str]]
    policies: list[dict[str, Any]] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if not isinstance(value, str) or not value:
            raise ValueError('must be a quoted string such as "2026.1"')
        return value


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    jurisdiction: str
    record: str
    categories: tuple[DataCategory, ...]
    start: str
    period: Period | None  # None: kept without end
    legal_basis: str
    extended_by: tuple[str, ...]

    def due(self, start_at: datetime) -> datetime | None:
        """When a record whose start event happened at `start_at` falls due for disposal (UTC), or
        None when it is kept without end. Periods of whole years run to the end of a day: the record
        is due at the start of the next."""
        if self.period is None:
            return None
        moment = start_at.astimezone(UTC)
        if self.start == "end_of_year_of_acceptance":
            return _midnight(self.period.after(date(moment.year, 12, 31)) + timedelta(days=1))
        if self.start == "recorded" and not self.period.years and not self.period.months:
            return moment + timedelta(days=self.period.days)  # short periods (biometrics) run to the hour
        return _midnight(self.period.after(moment.date()) + timedelta(days=1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "jurisdiction": self.jurisdiction,
            "record": self.record,
            "categories": [c.value for c in self.categories],
            "start": self.start,
            "period": str(self.period) if self.period is not None else INDEFINITE,
            "legal_basis": self.legal_basis,
            "extended_by": list(self.extended_by),
        }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PolicySet:
    version: str
    effective_from: date
    source: str
    jurisdictions: dict[str, tuple[str, ...]]
    policies: tuple[Policy, ...]

    def jurisdiction_of(self, country: str) -> str | None:
        country = country.upper()
        for name, members in self.jurisdictions.items():
            if country in members:
                return name
        return None

    def candidates(self, record: str, category: DataCategory, country: str) -> tuple[Policy, ...]:
        """The policies that may govern a record: its jurisdiction's, else those for any
        jurisdiction (`*`), else every policy of the kind and category (the latest then applies)."""
        of_kind = [p for p in self.policies if p.record == record and category in p.categories]
        jurisdiction = self.jurisdiction_of(country)
        for wanted in (jurisdiction, ANY_JURISDICTION):
            found = tuple(p for p in of_kind if p.jurisdiction == wanted)
            if found:
                return found
        return tuple(of_kind)

    def governing(self, record: str, category: DataCategory, country: str, start_at: datetime) -> Policy:
        """The one policy whose period applies, and so the latest due date among the candidates."""
        found = self.candidates(record, category, country)
        if not found:
            raise PolicyError(f"retention: no policy for {record} records of category {category.value}")

        def key(policy: Policy) -> datetime:
            due = policy.due(start_at)
            return datetime.max.replace(tzinfo=UTC) if due is None else due

        return max(found, key=key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "source": self.source,
            "jurisdictions": {k: list(v) for k, v in self.jurisdictions.items()},
            "policies": [p.to_dict() for p in self.policies],
        }


def _where(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "file"
    return field, str(first["msg"]).removeprefix("Value error, ")


def parse_policies(text: str, source: str) -> PolicySet:
    """The policy set in `text` (YAML), every entry checked; PolicyError naming the field otherwise."""
    try:
        document = load_yaml(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, dict):
        raise PolicyError(f"{source}: a policy file is a mapping with version, jurisdictions and policies")
    try:
        spec = _FileSpec.model_validate(document)
    except ValidationError as exc:
        field, message = _where(exc)
        raise PolicyError(f"{source}: {field}: {message}", field=field) from None
    jurisdictions: dict[str, tuple[str, ...]] = {}
    seen_countries: dict[str, str] = {}
    for name, members in spec.jurisdictions.items():
        if not _JURISDICTION.fullmatch(name):
            raise PolicyError(f"{source}: jurisdictions.{name}: a jurisdiction is 2 to 8 capital letters")
        for country in members:
            if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
                raise PolicyError(f"{source}: jurisdictions.{name}: {country!r} is not an ISO 3166 alpha-2 code")
            if country in seen_countries:
                raise PolicyError(
                    f"{source}: jurisdictions.{name}: {country} already belongs to {seen_countries[country]}"
                )
            seen_countries[country] = name
        jurisdictions[name] = tuple(members)
    policies: list[Policy] = []
    ids: set[str] = set()
    for position, raw in enumerate(spec.policies):
        try:
            entry = _PolicySpec.model_validate(raw)
        except ValidationError as exc:
            field, message = _where(exc)
            name = raw.get("id", position) if isinstance(raw, dict) else position
            raise PolicyError(f"{source}: policies[{name}].{field}: {message}", field=f"policies.{field}") from None
        where = f"{source}: policies[{entry.id}]"
        if entry.id in ids:
            raise PolicyError(f"{where}.id: used twice", field="policies.id")
        ids.add(entry.id)
        if entry.jurisdiction != ANY_JURISDICTION and entry.jurisdiction not in jurisdictions:
            known = ", ".join([*jurisdictions, ANY_JURISDICTION])
            raise PolicyError(
                f"{where}.jurisdiction: unknown jurisdiction {entry.jurisdiction!r}; known: {known}",
                field="policies.jurisdiction",
            )
        period = Period.parse(entry.period)
        if period is None and entry.record not in _INDEFINITE_KINDS:
            raise PolicyError(
                f"{where}.period: only {', '.join(sorted(_INDEFINITE_KINDS))} records, which hold no personal data, "
                "may be kept indefinitely",
                field="policies.period",
            )
        policies.append(
            Policy(
                entry.id,
                entry.jurisdiction,
                entry.record,
                tuple(DataCategory(c) for c in entry.categories),
                entry.start,
                period,
                entry.legal_basis,
                tuple(entry.extended_by),
            )
        )
    result = PolicySet(spec.version, spec.effective_from, source, jurisdictions, tuple(policies))
    for record, categories in REQUIRED:
        for category in categories:
            if not any(p.record == record and category in p.categories for p in policies):
                raise PolicyError(
                    f"{source}: policies: no policy covers {record} records of category {category.value}",
                    field="policies",
                )
    return result


def load_policies(path: Path | None = None) -> PolicySet:
    """The packaged policies, or the file at `path` (an operator's override)."""
    if path is None:
        text = resources.files("clearguard.retention.policies").joinpath(_PACKAGED).read_text(encoding="utf-8")
        return parse_policies(text, f"clearguard/retention/policies/{_PACKAGED}")
    return parse_policies(_read(path), str(path))


def _read(path: Path) -> str:
    return read_limited(path, max_bytes=_MAX_FILE_BYTES, setting="a policy file").decode("utf-8", errors="replace")
