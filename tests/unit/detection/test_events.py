"""The event file format: strict parsing, line numbers, order, odd bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clearguard.detection.errors import DetectionInputError
from clearguard.detection.events import ACTIONS, parse_event, read_events

LINE = {
    "at": "2026-03-02T08:14:05Z",
    "actor": "officer-17",
    "role": "officer",
    "office": "GB000060",
    "action": "declaration.read",
    "outcome": "success",
    "source_ip": "10.20.1.15",
    "user_agent": "Mozilla/5.0",
    "record": "26GB00000000000001",
    "party": "GB123456789000",
    "count": 1,
}


def line(**changes: object) -> str:
    obj = dict(LINE)
    obj.update(changes)
    return json.dumps({k: v for k, v in obj.items() if v is not ...})


def test_the_issue_list_of_actions() -> None:
    assert len(ACTIONS) == 15 and {"auth.login", "access.breakglass", "risk.override"} <= ACTIONS


def test_keys_in_any_order_with_or_without_spaces() -> None:
    compact = json.dumps(LINE, separators=(",", ":"))
    spaced = json.dumps(dict(reversed(list(LINE.items()))), indent=None, separators=(" ,  ", " :  "))
    a, b = parse_event(compact, 1), parse_event(spaced.encode(), 2)
    assert a == b
    assert a.at == datetime(2026, 3, 2, 8, 14, 5, tzinfo=UTC)
    assert a.to_dict() == LINE


def test_optional_fields_may_be_null_or_absent() -> None:
    e = parse_event(line(office=None, record=..., party=..., count=..., source_ip=None, user_agent=...), 1)
    assert e.office is None and e.record is None and e.count == 1 and e.source_ip is None


def test_offsets_are_converted_to_utc() -> None:
    e = parse_event(line(at="2026-03-02T09:14:05+01:00"), 1)
    assert e.at == datetime(2026, 3, 2, 8, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (b"\xff\xfe{}", "line 7: not UTF-8"),
        (b'{"at": "2026-03-02T08:14:05Z", "actor": "a\xc3"}', "line 7: not UTF-8"),
        ("not json", "line 7: not JSON"),
        ("[1, 2]", "line 7: must be a JSON object"),
        ("", "line 7: empty line"),
        (line(action="declaration.delete"), "line 7: action: 'declaration.delete' is not a known action"),
        (line(outcome="maybe"), "line 7: outcome:"),
        (line(at="2026-03-02T08:14:05"), "line 7: at: must carry a time zone"),
        (line(at="yesterday"), "line 7: at: 'yesterday' is not an ISO 8601 time"),
        (line(at=5), "line 7: at: must be an ISO 8601 time string"),
        (line(actor=""), "line 7: actor: must not be empty"),
        (line(actor=...), "line 7: actor: is required"),
        (line(actor=17), "line 7: actor: must be a string"),
        (line(source_ip="10.0.0.999"), "line 7: source_ip: '10.0.0.999' is not an IP address"),
        (line(count=True), "line 7: count: must be a whole number"),
        (line(count=-1), "line 7: count: must be between"),
        (line(count=1.5), "line 7: count: must be a whole number"),
        (line(extra="x"), "line 7: extra: is not a field of the event format"),
        (line(user_agent="a\x00b"), "line 7: user_agent: contains control characters"),
        (line(record="x" * 300), "line 7: record: longer than 256 characters"),
        ("[" * 100_000, "line 7: longer than"),
        ("[" * 60_000, "line 7: not JSON"),
    ],
)
def test_bad_lines_name_the_line_and_the_field(text: str | bytes, needle: str) -> None:
    with pytest.raises(DetectionInputError) as caught:
        parse_event(text, 7)
    assert needle in str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def write(tmp_path: Path, lines: list[bytes | str]) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join((x.encode() if isinstance(x, str) else x) + b"\n" for x in lines))
    return path


def test_equal_times_are_fine_earlier_is_a_bad_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            line(at="2026-03-02T08:00:00Z"),
            line(at="2026-03-02T08:00:00Z"),
            line(at="2026-03-02T07:59:59Z"),
            line(at="2026-03-02T08:00:01Z"),
        ],
    )
    with pytest.raises(DetectionInputError) as caught:
        read_events(path, skip_bad=False)
    assert "1 bad line(s): line 3: at: 2026-03-02T07:59:59Z is earlier than the line before" in str(caught.value)
    events, bad = read_events(path, skip_bad=True)
    assert len(events) == 3 and [b.lineno for b in bad] == [3]


def test_refusal_lists_the_first_bad_lines_and_counts_the_rest(tmp_path: Path) -> None:
    lines: list[bytes | str] = [line()]
    lines += [line(action=f"nope.{i}") for i in range(8)]
    lines += [b"\xc0\xaf", line(at="2026-03-02T09:00:00Z")]
    path = write(tmp_path, lines)
    with pytest.raises(DetectionInputError) as caught:
        read_events(path, skip_bad=False)
    message = str(caught.value)
    assert message.startswith("events.jsonl: 9 bad line(s): line 2: action: 'nope.0' is not a known action")
    assert "line 6:" in message and "line 7:" not in message and "and 4 more" in message
    events, bad = read_events(path, skip_bad=True)
    assert len(events) == 2 and [b.lineno for b in bad] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert bad[-1].reason.startswith("not UTF-8")


def test_an_overlong_line_is_refused_and_the_next_line_still_read(tmp_path: Path) -> None:
    path = write(tmp_path, [line(), b"x" * 200_000, line(at="2026-03-02T09:00:00Z")])
    events, bad = read_events(path, skip_bad=True)
    assert len(events) == 2 and [(b.lineno, b.reason[:12]) for b in bad] == [(2, "longer than ")]


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    with pytest.raises(DetectionInputError, match="only regular files"):
        read_events(Path("/dev/zero"), skip_bad=True)
    with pytest.raises(DetectionInputError, match="is a directory"):
        read_events(tmp_path, skip_bad=True)
    with pytest.raises(DetectionInputError, match="no such file"):
        read_events(tmp_path / "missing.jsonl", skip_bad=True)
