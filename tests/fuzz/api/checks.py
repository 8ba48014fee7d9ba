"""What every API answer must be, whatever was asked: no 5xx, no stack trace or source path in
the body, every error an RFC 9457 problem+json whose status matches the answer's."""

from __future__ import annotations

import json
import re
from typing import Any

# A Python traceback, a source or site-packages path, or a frame line: what a leak looks like.
LEAK = re.compile(
    r'Traceback \(most recent call last\)|File "[^"]+", line \d+|site-packages|/src/clearguard/|\.py", line'
)


def check_answer(status: int, content_type: str, body: bytes, what: Any = "") -> None:
    text = body.decode("utf-8", "replace")
    assert status < 500, f"{status} for {what}: {text[:500]}"
    assert not LEAK.search(text), f"stack trace or path in the answer to {what}: {text[:500]}"
    if status >= 400:
        assert content_type.startswith("application/problem+json"), f"{status} {content_type} for {what}: {text[:300]}"
        problem = json.loads(text)
        assert isinstance(problem, dict) and problem.get("status") == status, (what, problem)
        assert isinstance(problem.get("type"), str) and isinstance(problem.get("title"), str), (what, problem)
