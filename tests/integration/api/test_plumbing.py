from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clearguard.access.roles import Perm
from clearguard.api.security import PermissionRoute, require
from clearguard.api.walker import public_routes, undeclared
from clearguard.identity.clock import FrozenClock
from tests.integration.api.api_env import Api, api_settings, build_app

PROBLEM = "application/problem+json"
ALLOWED_PUBLIC = {
    "/health",
    "/api/v1/auth/login",
    "/api/v1/auth/mfa/totp/enroll",
    "/api/v1/auth/mfa/totp/confirm",
    "/api/v1/auth/mfa/totp",
    "/api/v1/auth/mfa/recovery",
    "/api/v1/auth/webauthn/authenticate/options",
    "/api/v1/auth/webauthn/authenticate",
    "/api/v1/auth/refresh",
    "/api/v1/auth/mfa/webauthn/enroll/options",
    "/api/v1/auth/mfa/webauthn/enroll",
}


@pytest.mark.asvs("V8.2.1")
def test_every_route_declares_a_permission(api: Api) -> None:
    app = api.client.app
    assert isinstance(app, FastAPI)
    assert undeclared(app) == []
    assert {r.path for r in public_routes(app)} == ALLOWED_PUBLIC


def test_walker_catches_a_route_without_permission(api: Api) -> None:
    app = api.client.app
    assert isinstance(app, FastAPI)

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    assert [r.path for r in undeclared(app)] == ["/api/v1/forgotten"]


def test_permission_is_in_openapi(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["paths"]["/api/v1/echo"]["post"]["x-permission"] == "declarations:read"
    assert spec["paths"]["/health"]["get"]["x-permission"] == "public"
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_unknown_permission_is_refused_at_import_time() -> None:
    with pytest.raises(ValueError):
        require("declarations:everything")


@pytest.mark.asvs("V3.4.3", "V3.4.4", "V3.4.5", "V3.4.6", "V14.3.2")
def test_security_headers_on_every_response(api: Api) -> None:
    for r in (api.client.get("/health"), api.client.get("/nope"), api.client.post("/api/v1/echo", json={})):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in r.headers  # plain HTTP


@pytest.mark.asvs("V3.4.1")
def test_hsts_only_under_tls(api: Api) -> None:
    tls = TestClient(api.client.app, base_url="https://testserver")
    assert tls.get("/health").headers["strict-transport-security"].startswith("max-age=63072000")


def test_404_405_and_unauthenticated_are_problems(api: Api) -> None:
    r = api.client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:clearguard:problem:not-found"
    r = api.client.get("/api/v1/auth/login")
    assert r.status_code == 405 and r.json()["type"] == "urn:clearguard:problem:method-not-allowed"
    r = api.client.post("/api/v1/echo", json={})
    assert r.status_code == 401 and r.json()["type"] == "urn:clearguard:problem:invalid-token"
    r = api.client.post("/api/v1/echo", json={}, headers={"Authorization": "Bearer cga_forged"})
    assert r.status_code == 401


def test_role_without_permission_is_403(api: Api) -> None:
    api.add_user("root", role="admin")
    r = api.client.post("/api/v1/echo", json={}, headers=api.bearer("root"))
    assert r.status_code == 403 and r.json()["type"] == "urn:clearguard:problem:forbidden"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": 123456789012},
        {"username": False, "password": "x" * 20},
        {"username": "alice", "password": "x" * 20, "extra": 1},
        {"username": "alice"},
    ],
)
@pytest.mark.asvs("V2.2.1", "V15.3.3", "V15.3.5")
def test_strict_json_no_coercion_no_unknown_fields(api: Api, body: dict[str, Any]) -> None:
    r = api.client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"] == "urn:clearguard:problem:request-invalid"
    assert problem["errors"] and all("input" not in e for e in problem["errors"])
    assert "x" * 20 not in r.text  # never echoes a submitted password


def test_logout_flag_is_strict_bool(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    r = api.client.post("/api/v1/auth/logout", json={"everywhere": 0}, headers=api.bearer("alice"))
    assert r.status_code == 422


def test_malformed_json_is_400(api: Api) -> None:
    r = api.client.post("/api/v1/auth/login", content=b'{"username": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["type"] == "urn:clearguard:problem:unreadable-input"


def test_request_size_limit(api: Api) -> None:
    big = {"username": "a", "password": "p" * 30_000}
    r = api.client.post("/api/v1/auth/login", json=big)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:clearguard:problem:request-too-large"
    assert r.headers["cache-control"] == "no-store"

    def chunks() -> Any:
        yield b'{"username": "a", "password": "'
        for _ in range(30):
            yield b"p" * 1000
        yield b'"}'

    r = api.client.post("/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.asvs("V16.5.1")
def test_unexpected_error_is_a_bare_500(session_factory: Any) -> None:
    app = build_app(session_factory, FrozenClock(), api_settings())
    from fastapi import APIRouter

    boom = APIRouter(route_class=PermissionRoute)

    @boom.get("/boom", dependencies=[require(Perm.PUBLIC)])
    def explode() -> None:
        raise RuntimeError("secret internals")

    app.include_router(boom)
    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    assert "secret internals" not in r.text and "Traceback" not in r.text


def test_walker_sees_router_level_dependencies(api: Api) -> None:
    from fastapi import APIRouter

    app = api.client.app
    assert isinstance(app, FastAPI)
    sub = APIRouter()

    @sub.get("/api/v1/router-level")
    def guarded_by_router() -> dict[str, str]:
        return {}

    app.include_router(sub, dependencies=[require(Perm.AUDIT_READ)])
    assert undeclared(app) == []
