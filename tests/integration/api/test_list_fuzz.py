"""Issue 13, item 12: the list endpoint's parameters, fuzzed (hypothesis), never give a 5xx.

A cursor decoding to a 40-digit number once answered 500. Every parameter gets arbitrary text
(digits by the dozen, other scripts, control characters, near-misses of the real formats), and real
cursors altered, as each role that may list; every answer is a 2xx, or a 4xx problem+json.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.integration.api.app_env import RealApp, make_real_app

ROLES = ("trader", "broker", "officer", "analyst", "auditor")
EXAMPLES = int(os.environ.get("CLEARGUARD_FUZZ_EXAMPLES", "25")) * 4


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    app = make_real_app(engine, database_url)
    for _ in range(3):
        app.seed("gb")
    return app


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
digits = st.integers(min_value=-(10**45), max_value=10**45).map(str)
cursor = st.one_of(
    text,
    digits,
    digits.map(lambda d: _b64(d.encode())),  # the old format, any size
    st.binary(min_size=0, max_size=60).map(_b64),
    st.binary(min_size=37, max_size=37).map(_b64),  # the sealed length, random content
)
eori_like = st.from_regex(r"\A[A-Za-z]{2}[0-9A-Za-z]{0,17}\Z")
# Per parameter: values of the right shape first (so the other checks are reached), then anything.
VALUES: dict[str, st.SearchStrategy[str]] = {
    "status": st.one_of(st.sampled_from(["released", "under_control", "lodged"]), text),
    "office": st.one_of(st.from_regex(r"\A[A-Z]{2}[A-Z0-9]{6}\Z"), text),
    "type": st.one_of(st.sampled_from(["H1", "H7"]), text),
    "party": st.one_of(eori_like, text),
    "lrn": text,
    "since": st.one_of(st.datetimes().map(lambda d: d.isoformat()), text),
    "limit": st.one_of(st.integers(1, 500).map(str), digits, text),
    "cursor": cursor,
}
LIMITS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(real: RealApp, query: dict[str, Any], role: str) -> None:
    response = real.client.get("/api/v1/declarations", params=query, headers=real.auth(role))
    assert response.status_code < 500, (query, role, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        assert "Traceback" not in response.text


@LIMITS
@given(data=st.data(), name=st.sampled_from(sorted(VALUES)), role=st.sampled_from(ROLES))
def test_each_list_parameter_alone_never_gives_a_server_error(
    real: RealApp, data: st.DataObject, name: str, role: str
) -> None:
    _check(real, {name: data.draw(VALUES[name], label=name)}, role)


@LIMITS
@given(
    query=st.fixed_dictionaries({}, optional=VALUES),
    role=st.sampled_from(ROLES),
    flip=st.one_of(st.none(), st.integers(0, 49)),
)
def test_list_parameters_together_never_give_a_server_error(
    real: RealApp, query: dict[str, Any], role: str, flip: int | None
) -> None:
    if flip is not None:
        # A cursor this server sealed, with one character changed (or, past its end, unchanged).
        sealed = real.client.get("/api/v1/declarations?limit=1", headers=real.auth("officer")).json()["next_cursor"]
        if flip < len(sealed):
            sealed = sealed[:flip] + ("A" if sealed[flip] != "A" else "B") + sealed[flip + 1 :]
        query = dict(query, cursor=sealed)
    _check(real, query, role)
