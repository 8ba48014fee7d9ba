"""Odd inputs shared by the fuzz tests: arbitrary bytes, and real samples cut and spliced with the
tokens that break parsers (invalid UTF-8, byte order marks, NUL, numbers past every limit, NaN,
nesting deeper than the interpreter's stack, very long strings).

`refused_or_read` is the one property every parser test asserts: the parser returns, or raises its
documented error class; any other exception (ValueError, KeyError, RecursionError, ...) is a defect.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

T = TypeVar("T")

# CI runs a small, repeatable count; `make fuzz` raises it (CLEARGUARD_FUZZ_EXAMPLES=2000).
EXAMPLES = int(os.environ.get("CLEARGUARD_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("CLEARGUARD_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

TOKENS: tuple[bytes, ...] = (
    b"\xff",
    b"\xc3\x28",  # a lead byte without its continuation
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xef\xbb\xbf",  # a byte order mark, anywhere
    b"\xfe\xff",
    b"\x00",
    b"\r\n",
    b"\n",
    b"\t",
    b"\\u0000",
    b"\\ud800",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b".nan",
    b".inf",
    b"1e999999",
    b"-0",
    b"9" * 5000,  # past Python's int/str digit limit
    b"18446744073709551616",
    b"-9223372036854775809",
    b"[" * 3000,
    b"{" * 3000,
    b'{"a":' * 3000,
    b"- " * 2000,
    b"&a [*a, *a, *a]",  # a YAML alias
    b"!!python/object:os.system",
    b"a" * 70_000,
    b"null",
    b"true",
    b'""',
    b"[]",
    b"{}",
    b"~",
    b"=",
    b".",
    b"/",
    b"..",
    b" ",
    "\u202e\u0000\U0001f600".encode(),
)

token = st.sampled_from(TOKENS)


@st.composite
def spliced(draw: st.DrawFn, samples: Sequence[bytes]) -> bytes:
    """A real sample with up to three edits: a span replaced by an odd token or random bytes, or
    the sample cut short."""
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 16)))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            data[start:end] = draw(token)
        elif kind == 1:
            data[start:end] = draw(st.binary(max_size=8))
        elif kind == 2:
            del data[start:]
        else:
            data[start:start] = draw(token)
    return bytes(data)


def odd_bytes(samples: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        spliced(samples),
        st.binary(max_size=300),
        st.lists(token, min_size=1, max_size=4).map(b"".join),
    )


def odd_text(samples: Sequence[bytes]) -> st.SearchStrategy[str]:
    """Text, as a reader that decoded the bytes would pass on (undecodable bytes replaced)."""
    return st.one_of(
        odd_bytes(samples).map(lambda b: b.decode("utf-8", "replace")),
        st.text(max_size=200),
    )


def refused_or_read(parse: Callable[[], T], errors: type[BaseException] | tuple[type[BaseException], ...]) -> T | None:
    """parse() returns, or raises one of `errors`; any other exception fails the test as it is."""
    try:
        return parse()
    except errors:
        return None


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """JSON-shaped values with the awkward scalars (huge ints, NaN, long strings, deep lists)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**30, max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.just("x" * 5000),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
        max_leaves=max_leaves,
    )


@st.composite
def restructured(draw: st.DrawFn, samples: Sequence[Any]) -> Any:
    """A deep copy of one of `samples` (parsed documents) with one node, at a random depth, replaced
    by an awkward JSON value or removed: reaches the checks past the syntax."""
    import copy

    doc = copy.deepcopy(draw(st.sampled_from(samples)))
    value = draw(json_values(6))
    if not isinstance(doc, dict | list) or not doc:
        return value
    target: Any = doc
    while True:
        keys: list[Any] = sorted(target, key=str) if isinstance(target, dict) else list(range(len(target)))
        key = draw(st.sampled_from(keys))
        child = target[key]
        if isinstance(child, dict | list) and child and draw(st.integers(0, 2)):
            target = child
            continue
        if draw(st.integers(0, 4)) == 0:
            del target[key]
        else:
            target[key] = value
        return doc
