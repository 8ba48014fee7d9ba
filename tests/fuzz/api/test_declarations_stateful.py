"""Stateful fuzzing of the declarations API (hypothesis' rule-based state machine): lodge, read,
amend, decide and fetch receipts in any order, by the roles that may or may not, with bodies that
are valid or altered anywhere. MRNs flow from the lodging's answer into the later calls, as the
API's own links would carry them. After every step: the answer is a 2xx, or a 4xx problem+json
that wrote nothing; a declaration's version only grows, by one per accepted amendment."""

from __future__ import annotations

import itertools
import json
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine

from tests.fuzz.api.checks import check_answer
from tests.fuzz.api.test_declarations_writes import _counts
from tests.fuzz.odd import EXAMPLES, restructured
from tests.helpers import example
from tests.integration.api.app_env import RealApp, make_real_app

H1 = example("h1-import.json")
bodies = st.one_of(st.just(H1), restructured([H1]))
WRITERS = st.sampled_from(["trader", "broker", "officer", "auditor"])
LRNS = itertools.count(1)  # across runs: the database outlives each run of the machine
READERS = st.sampled_from(["trader", "broker", "officer", "auditor", "admin", "partner"])


class Lifecycle(RuleBasedStateMachine):
    mrns = Bundle("mrns")
    real: RealApp
    engine: Engine
    accepted: ClassVar[dict[str, int]] = {}  # successes per step kind, over all runs: the 2xx paths were reached

    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[str, int] = {}

    @initialize()
    def start(self) -> None:
        self.before = _counts(self.engine)

    def _post(self, path: str, body: Any, role: str, grows: str | None) -> Any:
        before = _counts(self.engine)
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers = self.real.auth(role) | {"content-type": "application/json"}
        response = self.real.client.post(path, content=data, headers=headers)
        check_answer(response.status_code, response.headers.get("content-type", ""), response.content, (path, role))
        after = _counts(self.engine)
        if response.status_code >= 400:
            assert after == before, (path, role, response.text[:300])
        elif grows:
            assert after[grows] > before[grows], (path, role, response.text[:300])
        return response

    @rule(target=mrns, body=bodies, role=WRITERS)
    def lodge(self, body: Any, role: str) -> str:
        if isinstance(body, dict) and isinstance(body.get("lrn"), str):
            body = body | {"lrn": f"S{next(LRNS):05d}-{body['lrn']}"[:22]}
        response = self._post("/api/v1/declarations", body, role, "declaration_versions")
        if response.status_code != 201:
            return "00GB000000000000X0"  # an MRN of no declaration: the later steps must say 404
        Lifecycle.accepted["lodge"] = Lifecycle.accepted.get("lodge", 0) + 1
        mrn = str(response.json()["mrn"])
        self.versions[mrn] = int(response.json()["version"])
        return mrn

    @rule(mrn=mrns, role=READERS)
    def read(self, mrn: str, role: str) -> None:
        response = self.real.client.get(f"/api/v1/declarations/{mrn}", headers=self.real.auth(role))
        check_answer(response.status_code, response.headers.get("content-type", ""), response.content, mrn)
        if response.status_code == 200 and mrn in self.versions:
            assert response.json()["version"] == self.versions[mrn]

    @rule(mrn=mrns, role=READERS)
    def receipt(self, mrn: str, role: str) -> None:
        response = self.real.client.get(f"/api/v1/declarations/{mrn}/receipt", headers=self.real.auth(role))
        check_answer(response.status_code, response.headers.get("content-type", ""), response.content, mrn)

    @rule(mrn=mrns, body=bodies, role=WRITERS)
    def amend(self, mrn: str, body: Any, role: str) -> None:
        response = self._post(f"/api/v1/declarations/{mrn}/amendments", body, role, "declaration_versions")
        if response.status_code == 201:
            assert response.json()["version"] == self.versions[mrn] + 1
            Lifecycle.accepted["amend"] = Lifecycle.accepted.get("amend", 0) + 1
            self.versions[mrn] += 1

    @rule(mrn=mrns, decision=st.sampled_from(["release", "hold", "reject", "approve"]), role=WRITERS)
    def decide(self, mrn: str, decision: str, role: str) -> None:
        body = {"decision": decision, "reason": "fuzz"}
        self._post(f"/api/v1/declarations/{mrn}/decisions", body, role, "declaration_events")

    @invariant()
    def ledger_has_an_entry_per_version(self) -> None:
        counts = _counts(self.engine)
        assert counts["ledger_entries"] >= counts["declaration_versions"]


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def test_the_declarations_lifecycle_in_any_order(real: RealApp, engine: Engine) -> None:
    Lifecycle.real, Lifecycle.engine, Lifecycle.accepted = real, engine, {}
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=max(3, EXAMPLES // 12),
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    assert Lifecycle.accepted.get("lodge", 0) > 0, Lifecycle.accepted
