"""Lodging and amending over the API with odd bodies (bytes cut and spliced, any value in any field,
as each role that may write): the answer is a 2xx, or a 4xx problem+json that changed nothing: no
declaration, version, event, ledger entry or party row more than before (no partial write)."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from clearguard.tables import metadata
from tests.fuzz.api.checks import check_answer
from tests.fuzz.odd import FUZZ, odd_bytes, restructured
from tests.helpers import example
from tests.integration.api.app_env import RealApp, make_real_app

# What a lodging or an amendment writes; an audit event or access-log row for a refusal is evidence.
WRITTEN = ("declarations", "declaration_versions", "declaration_events", "declaration_parties", "ledger_entries")
SAMPLES = [example("h1-import.json"), example("h7-low-value.json")]
RAW = [json.dumps(s).encode() for s in SAMPLES]
bodies = st.one_of(odd_bytes(RAW), restructured(SAMPLES).map(lambda d: json.dumps(d).encode()))


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    app = make_real_app(engine, database_url)
    app.mrn = app.seed("gb")  # type: ignore[attr-defined]
    app.engine = engine  # type: ignore[attr-defined]
    return app


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one() for name in WRITTEN
        }


def _send(real: RealApp, path: str, body: bytes, role: str, grows: str = "declaration_versions") -> None:
    engine: Engine = real.engine  # type: ignore[attr-defined]
    before = _counts(engine)
    headers = real.auth(role) | {"content-type": "application/json"}
    response = real.client.post(path, content=body, headers=headers)
    check_answer(response.status_code, response.headers.get("content-type", ""), response.content, (path, body[:200]))
    after = _counts(engine)
    if response.status_code >= 400:
        assert after == before, (path, response.status_code, response.text[:300], before, after)
    else:
        assert after[grows] == before[grows] + 1, response.text


LRNS = itertools.count(1)


def _unique(body: bytes) -> bytes:
    # A fresh LRN (22 characters at most) when the body still has one, so a valid lodging is new.
    fresh = b'"lrn": "F%06d"' % next(LRNS)
    return re.sub(rb'"lrn": "[^"]{0,22}"', lambda _: fresh, body, count=1)


@FUZZ
@given(body=bodies, role=st.sampled_from(["trader", "broker", "officer", "admin"]))
def test_lodging_odd_bodies(real: RealApp, body: bytes, role: str) -> None:
    _send(real, "/api/v1/declarations", _unique(body), role)


@FUZZ
@given(body=bodies, role=st.sampled_from(["trader", "broker", "officer"]))
def test_amending_with_odd_bodies(real: RealApp, body: bytes, role: str) -> None:
    _send(real, f"/api/v1/declarations/{real.mrn}/amendments", body, role)  # type: ignore[attr-defined]


decision_bodies = st.one_of(
    st.binary(max_size=80),
    st.fixed_dictionaries(
        {"decision": st.one_of(st.sampled_from(["release", "hold", "reject"]), st.text(max_size=20))},
        optional={"reason": st.one_of(st.text(max_size=300), st.integers()), "x": st.none()},
    ).map(lambda d: json.dumps(d).encode()),
)


@FUZZ
@given(body=decision_bodies)
def test_decisions_with_odd_bodies(real: RealApp, body: bytes) -> None:
    _send(real, f"/api/v1/declarations/{real.mrn}/decisions", body, "officer", "declaration_events")  # type: ignore[attr-defined]
