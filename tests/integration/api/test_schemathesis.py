"""schemathesis over the OpenAPI description: generated requests, authenticated and not, never 5xx."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema
from sqlalchemy import Engine

from tests.integration.api.app_env import make_real_app


@pytest.fixture
def api_schema(engine: Engine, database_url: str) -> BaseOpenAPISchema:
    """The real application; generated requests are sent anonymously, then as a trader and as an
    officer (between them they reach every route past authentication)."""
    real = make_real_app(engine, database_url)
    real.seed("gb")
    app = real.client.app
    assert isinstance(app, FastAPI)
    app.state.test_headers = [None, real.auth("trader"), real.auth("officer")]
    return schemathesis.from_dict(_fuzzable(app.openapi()), app=app)


def _fuzzable(node: Any) -> Any:
    """A copy of the OpenAPI document without minLength/maxLength next to a `pattern`.

    schemathesis 3.39 merges length limits into the pattern's quantifiers and produces an invalid
    regex for patterns such as `^\\+?[0-9 ()./-]{3,35}$` (InternalError, a schemathesis bug). The
    patterns already bound the length, so generated values still fit; the server checks both anyway.
    """
    if isinstance(node, dict):
        out = {k: _fuzzable(v) for k, v in node.items()}
        if isinstance(out.get("pattern"), str):
            out.pop("minLength", None)
            out.pop("maxLength", None)
        return out
    if isinstance(node, list):
        return [_fuzzable(v) for v in node]
    return node


# FastAPI emits OpenAPI 3.1, which schemathesis 3.x supports behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()
schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("CLEARGUARD_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    app = case.app
    for headers in app.state.test_headers:
        response = case.call_asgi(headers=headers)
        case.validate_response(response, checks=(not_a_server_error,))
