"""The API edge over HTTP: injection, traversal, NUL and markup refused with a problem naming the
field, before any service (nothing is written), and recorded as denied activity; legitimate
declarations with quotes, apostrophes and ampersands pass; rate limits answer 429 with Retry-After."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from clearguard.detection.tables import ActivityRow
from tests.integration.api.app_env import RealApp
from tests.integration.detection.env import activity_count, client_from, security_app, services_of

BLOCKED = "urn:clearguard:problem:request-blocked"


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return security_app(engine, database_url)


def _declarations(real: RealApp) -> int:
    return real.declarations.count()


def _denied(real: RealApp) -> list[ActivityRow]:
    with services_of(real).session_factory() as session:
        stmt = select(ActivityRow).where(ActivityRow.outcome == "denied", ActivityRow.audit_event.is_(None))
        return list(session.execute(stmt).scalars())


@pytest.mark.parametrize(
    ("where", "value", "field", "rule"),
    [
        ("description", "shoes' OR '1'='1", "items[0].description", "injection"),
        ("description", "x'; DROP TABLE declarations; --", "items[0].description", "injection"),
        ("description", "1 UNION SELECT password_hash FROM identity_accounts", "items[0].description", "injection"),
        ("description", "<script>alert(document.cookie)</script>", "items[0].description", "markup"),
        ("name", '<img src=x onerror="fetch(1)">', "seller.name", "markup"),
    ],
)
def test_payloads_in_a_lodging_are_refused_before_any_service(
    real: RealApp, where: str, value: str, field: str, rule: str
) -> None:
    doc = real.document("gb")
    if where == "name":
        doc["seller"]["name"] = value
    else:
        doc["items"][0]["description"] = value
    before, recorded = _declarations(real), len(_denied(real))
    r = real.client.post("/api/v1/declarations", content=json.dumps(doc), headers=real.auth("trader"))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == BLOCKED and problem["rule"] == rule, problem
    assert problem["field"] == field and problem["detail"].startswith(field + ":"), problem
    assert value not in r.text  # never echoed
    assert _declarations(real) == before  # it reached no service
    denied = _denied(real)
    assert len(denied) == recorded + 1
    assert (denied[-1].action, denied[-1].actor, denied[-1].role) == ("declaration.lodge", "trader", "trader")


@pytest.mark.parametrize(
    ("target", "field", "rule"),
    [
        ("/api/v1/declarations/..%2f..%2fetc%2fpasswd", "path", "traversal"),
        ("/api/v1/declarations/%2e%2e/%2e%2e/etc/passwd", "path", "traversal"),
        ("/api/v1/declarations/%252e%252e%252fetc", "path", "traversal"),
        ("/api/v1/declarations/26GB%00", "path", "nul"),
        ("/api/v1/declarations?name=x%27%20OR%20%271%27%3D%271", "query.name", "injection"),
        ("/api/v1/declarations?party=..%2f..%2fsecret", "query.party", "traversal"),
        ("/api/v1/declarations?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "query.name", "markup"),
        ("/api/v1/declarations?name=%ff%fe", "query.name", "malformed"),
        ("/api/v1/declarations?name=" + "a" * 17000, "query", "oversized"),
    ],
)
def test_paths_and_parameters_are_checked(real: RealApp, target: str, field: str, rule: str) -> None:
    before = activity_count(real)
    r = real.client.get(target, headers=real.auth("officer"))
    assert r.status_code in (400, 414), r.text
    assert r.json()["field"] == field and r.json()["rule"] == rule, r.json()
    assert activity_count(real) == before + 1  # the refusal, and no list or read event
    assert _denied(real)[-1].actor == "officer"


def test_a_nul_is_left_to_the_route_and_recorded(real: RealApp) -> None:
    """Each route's validation already refuses NUL naming the field (422, its own problem shape):
    the edge leaves the answer to it, and records the attempt; nothing is stored."""
    doc = real.document("gb")
    doc["items"][0]["description"] = "shoes\u0000"
    before, recorded = _declarations(real), len(_denied(real))
    r = real.client.post("/api/v1/declarations", content=json.dumps(doc), headers=real.auth("trader"))
    assert r.status_code == 422 and "items" in r.text, r.text
    assert _declarations(real) == before
    assert len(_denied(real)) == recorded + 1 and _denied(real)[-1].action == "declaration.lodge"
    r = real.client.get("/api/v1/declarations", params={"lrn": "A\x00"}, headers=real.auth("trader"))
    assert r.status_code == 422, r.text
    assert len(_denied(real)) == recorded + 2


def test_real_declarations_are_not_blocked(real: RealApp) -> None:
    """Free text as traders write it: quotes, apostrophes, ampersands, semicolons, dashes."""
    for kind, text in [
        ("gb", "Men's leather shoes & boots, \"Deluxe\" range; O'Neill & Sons -- size 3/4"),
        ("gb", 'Pipes 12" -- galvanised; select grade from stock, 100% steel (type A) or B > 3mm'),
        ("nl", "Tom & Jerry's 'best' biscuits; 50% cocoa <10mm> pieces"),
    ]:
        doc = real.document(kind)
        doc["items"][0]["description"] = text
        user = "trader" if kind == "gb" else None
        if user is None:
            continue  # the NL example's declarant has no account here; the GB ones cover it
        r = real.client.post("/api/v1/declarations", content=json.dumps(doc), headers=real.auth(user))
        assert r.status_code == 201, r.text
    for name in ("O'Brien & Sons", 'Acme "Imports" Ltd'):
        r = real.client.get("/api/v1/declarations", params={"name": name}, headers=real.auth("officer"))
        assert r.status_code == 200, r.text
    assert not _denied(real)


@pytest.mark.asvs("V2.4.1")
def test_rate_limits(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARGUARD_DETECTION_EDGE_SOURCE_RATE", "40/minute")
    monkeypatch.setenv("CLEARGUARD_DETECTION_EDGE_PRINCIPAL_RATE", "5/minute")
    real = security_app(engine, database_url)  # its logins use part of the source's allowance
    # Per principal: the officer's sixth request within the minute is refused.
    statuses = [real.client.get("/api/v1/auth/me", headers=real.auth("officer")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429], statuses
    r = real.client.get("/api/v1/auth/me", headers=real.auth("officer"))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["type"] == "urn:clearguard:problem:too-many-requests" and r.json()["field"] == "principal"
    assert real.client.get("/api/v1/auth/me", headers=real.auth("auditor")).status_code == 200  # others unaffected
    # Per source: one address flooding, anonymous or not, is refused; another address is not.
    flood = client_from(real, "192.0.2.50")
    answers = [flood.get("/health") for _ in range(41)]
    assert [a.status_code for a in answers].count(429) == 1 and answers[-1].status_code == 429
    assert answers[-1].headers["content-type"] == "application/problem+json"
    assert int(answers[-1].headers["retry-after"]) >= 1 and answers[-1].json()["field"] == "source"
    assert client_from(real, "192.0.2.51").get("/health").status_code == 200
    assert any(a.source_ip == "192.0.2.50" for a in _denied(real))  # recorded (once per interval)


@pytest.mark.asvs("V16.3.2")
def test_a_refused_read_is_denied_activity(real: RealApp) -> None:
    """Another office's declaration without break-glass: 403, recorded as a denied read of the same
    keyed record a granted read would name."""
    from tests.integration.api.app_env import OTHER_GB_OFFICE

    other = real.seed("gb", office=OTHER_GB_OFFICE)
    r = real.client.get(f"/api/v1/declarations/{other}", headers=real.auth("officer"))
    assert r.status_code == 403, r.text
    [denied] = [a for a in _denied(real) if a.action == "declaration.read"]
    assert (denied.actor, denied.role, denied.office, denied.outcome) == ("officer", "officer", "GB000060", "denied")
    glass = real.client.get(
        f"/api/v1/declarations/{other}",
        headers={**real.auth("officer"), "X-Justification": "incident 42: suspected undervaluation"},
    )
    assert glass.status_code == 200, glass.text
    with services_of(real).session_factory() as session:
        granted = session.execute(
            select(ActivityRow.record).where(ActivityRow.action == "declaration.read", ActivityRow.outcome == "success")
        ).scalar_one()
    assert denied.record == granted and other not in str(denied.record)


@pytest.mark.parametrize(
    ("encode", "headers"),
    [
        (lambda text: text.encode("utf-16-le"), {"content-type": "application/json"}),
        (lambda text: text.encode("utf-32"), {"content-type": "application/json"}),
        (lambda text: b"\xef\xbb\xbf" + text.encode(), {}),  # a BOM and no Content-Type
        (lambda text: text.encode(), {"content-type": ""}),  # no Content-Type at all
    ],
)
def test_an_encoding_the_checks_would_not_read_is_refused_at_the_edge(
    real: RealApp, encode: object, headers: dict[str, str]
) -> None:
    """Python's JSON reader takes UTF-16/32 and skips a BOM; the edge's checks would have seen other
    bytes than the route reads. Refused, or checked as JSON: an injection never reaches a service."""
    doc = real.document("gb")
    doc["items"][0]["description"] = "shoes' OR '1'='1"
    before = _declarations(real)
    body = encode(json.dumps(doc))  # type: ignore[operator]
    r = real.client.post("/api/v1/declarations", content=body, headers={**real.auth("trader"), **headers})
    assert r.status_code == 400, r.text
    assert r.json()["type"] == BLOCKED and r.json()["rule"] in ("encoding", "injection"), r.text
    assert _declarations(real) == before
