"""Activity events: the one shape that detection reads, from the activity store or from a file.

The file format is issue 16's: one JSON object per line, in time order, keys in any order, written
with or without spaces. Parsing is strict (an unknown key, action or outcome, a naive time, a bad
address is refused, naming the line and the field), because a detector fed guesses raises guesses.
Pure: `read_events` only opens the file it is given.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from clearguard.detection.errors import DetectionInputError
from clearguard.errors import InputError
from clearguard.user_files import open_regular

ACTIONS: frozenset[str] = frozenset(
    {
        "auth.login",
        "auth.mfa",
        "auth.refresh",
        "declaration.lodge",
        "declaration.read",
        "declaration.list",
        "declaration.export",
        "declaration.amend",
        "declaration.decide",
        "access.breakglass",
        "account.create",
        "account.role_change",
        "account.disable",
        "key.operation",
        "risk.override",
    }
)
OUTCOMES: frozenset[str] = frozenset({"success", "failure", "denied"})
Outcome = Literal["success", "failure", "denied"]

FIELDS: tuple[str, ...] = (
    "at",
    "actor",
    "role",
    "office",
    "action",
    "outcome",
    "source_ip",
    "user_agent",
    "record",
    "party",
    "count",
)
_REQUIRED = frozenset({"at", "actor", "role", "action", "outcome"})
_OPTIONAL_TEXT = ("office", "record", "party")
# Lengths far above any real value: a line is refused, not truncated, when a field is absurd.
_MAX_TEXT = 256
_MAX_USER_AGENT = 1024
MAX_LINE_BYTES = 64 * 1024
MAX_COUNT = 10_000_000
# How many bad lines an error message lists before "and N more".
_LISTED = 5


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    at: datetime  # UTC-aware
    actor: str
    role: str
    office: str | None
    action: str
    outcome: Outcome
    source_ip: str | None
    user_agent: str | None
    record: str | None
    party: str | None
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The file format's object (the inverse of `parse_event`)."""
        return {
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "role": self.role,
            "office": self.office,
            "action": self.action,
            "outcome": self.outcome,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "record": self.record,
            "party": self.party,
            "count": self.count,
        }


@dataclass(frozen=True)
class BadLine:
    lineno: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.lineno}: {self.reason}"


def _fail(lineno: int, field: str | None, rule: str) -> DetectionInputError:
    where = f"line {lineno}: {field}: " if field else f"line {lineno}: "
    return DetectionInputError(where + rule, field=field, extra={"line": lineno})


def _text(obj: dict[str, Any], key: str, lineno: int, *, required: bool, limit: int = _MAX_TEXT) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise _fail(lineno, key, "is required")
        return None
    if not isinstance(value, str):
        raise _fail(lineno, key, f"must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise _fail(lineno, key, "must not be empty")
    if len(value) > limit:
        raise _fail(lineno, key, f"longer than {limit} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise _fail(lineno, key, "contains control characters")
    return value


def parse_time(value: object, lineno: int, field: str = "at") -> datetime:
    if not isinstance(value, str):
        raise _fail(lineno, field, "must be an ISO 8601 time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(lineno, field, f"{value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _fail(lineno, field, "must carry a time zone (e.g. Z)")
    return parsed.astimezone(UTC)


def parse_event(line: str | bytes, lineno: int) -> ActivityEvent:
    """One line of the event file; DetectionInputError naming the line and the field."""
    if isinstance(line, bytes):
        if len(line) > MAX_LINE_BYTES:
            raise _fail(lineno, None, f"longer than {MAX_LINE_BYTES} bytes")
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(lineno, None, f"not UTF-8 (byte {exc.start})") from None
    elif len(line) > MAX_LINE_BYTES:
        raise _fail(lineno, None, f"longer than {MAX_LINE_BYTES} characters")
    if not line.strip():
        raise _fail(lineno, None, "empty line")
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:  # ValueError: also a number past 4300 digits
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply or a number too long"
        raise _fail(lineno, None, f"not JSON ({reason})") from None
    if not isinstance(obj, dict):
        raise _fail(lineno, None, "must be a JSON object")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        raise _fail(lineno, str(unknown[0])[:40], "is not a field of the event format")
    missing = sorted(_REQUIRED - set(obj))
    if missing:
        raise _fail(lineno, missing[0], "is required")

    at = parse_time(obj["at"], lineno)
    actor = cast(str, _text(obj, "actor", lineno, required=True))
    role = cast(str, _text(obj, "role", lineno, required=True))
    action = cast(str, _text(obj, "action", lineno, required=True))
    if action not in ACTIONS:
        raise _fail(lineno, "action", f"{action[:40]!r} is not a known action")
    outcome = cast(str, _text(obj, "outcome", lineno, required=True))
    if outcome not in OUTCOMES:
        raise _fail(lineno, "outcome", f"{outcome[:40]!r} is not one of success, failure, denied")
    office, record, party = (_text(obj, key, lineno, required=False) for key in _OPTIONAL_TEXT)
    user_agent = _text(obj, "user_agent", lineno, required=False, limit=_MAX_USER_AGENT)
    source_ip = _text(obj, "source_ip", lineno, required=False)
    if source_ip is not None:
        try:
            source_ip = str(ipaddress.ip_address(source_ip))
        except ValueError:
            raise _fail(lineno, "source_ip", f"{source_ip[:40]!r} is not an IP address") from None
    count = obj.get("count", 1)
    if count is None:
        count = 1
    if isinstance(count, bool) or not isinstance(count, int):
        raise _fail(lineno, "count", "must be a whole number")
    if not 0 <= count <= MAX_COUNT:
        raise _fail(lineno, "count", f"must be between 0 and {MAX_COUNT}")
    return ActivityEvent(
        at=at,
        actor=actor,
        role=role,
        office=office,
        action=action,
        outcome=cast(Outcome, outcome),
        source_ip=source_ip,
        user_agent=user_agent,
        record=record,
        party=party,
        count=count,
    )


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the newline) of a regular file; a line longer than the limit is
    cut at the limit plus one byte so that parsing refuses it without holding it all."""
    try:
        handle = open_regular(path)
    except InputError as exc:
        raise DetectionInputError(str(exc), field="events") from None
    with handle:
        lineno = 0
        while True:
            chunk = handle.readline(MAX_LINE_BYTES + 1)
            if not chunk:
                return
            lineno += 1
            if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
                # Skip the rest of the overlong line.
                while True:
                    rest = handle.readline(MAX_LINE_BYTES)
                    if not rest or rest.endswith(b"\n"):
                        break
            yield lineno, chunk.rstrip(b"\r\n")


def read_events(path: Path, *, skip_bad: bool) -> tuple[list[ActivityEvent], list[BadLine]]:
    """Every event of a file in time order, and the lines that are not events.

    A malformed line, an unknown action, or a time earlier than the last good line's (equal is
    fine) is a bad line. Without `skip_bad`, any bad line raises DetectionInputError listing the
    first ones; with it, bad lines are left out and returned."""
    events: list[ActivityEvent] = []
    bad: list[BadLine] = []
    last: datetime | None = None
    for lineno, raw in iter_lines(path):
        try:
            event = parse_event(raw, lineno)
        except DetectionInputError as exc:
            bad.append(BadLine(lineno, str(exc).removeprefix(f"line {lineno}: ")))
            continue
        if last is not None and event.at < last:
            bad.append(BadLine(lineno, f"at: {event.to_dict()['at']} is earlier than the line before"))
            continue
        last = event.at
        events.append(event)
    if bad and not skip_bad:
        listed = "; ".join(str(b) for b in bad[:_LISTED])
        more = f"; and {len(bad) - _LISTED} more" if len(bad) > _LISTED else ""
        raise DetectionInputError(
            f"{path.name}: {len(bad)} bad line(s): {listed}{more} (--skip-bad leaves them out)",
            field="events",
            extra={"bad_lines": [{"line": b.lineno, "reason": b.reason} for b in bad[:100]]},
        )
    return events, bad
