"""Issue 13, items 8, 10, 12 and 14 over HTTP: what each role may filter on and see, opaque cursors,
break-glass justification out of the URL, EORI filters checked by the rule pack's table."""

from __future__ import annotations

import base64
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from clearguard.declarations.ports import OneByOne
from clearguard.declarations.results import Actor
from clearguard.risk.lodging import RiskOutcome
from tests.integration.api.app_env import GB_TRADER, RealApp, make_real_app

PROBLEM = "application/problem+json"
WITHHOLDING = ("auditor", "analyst")


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def _list(real: RealApp, who: str, **params: Any) -> Any:
    return real.client.get("/api/v1/declarations", params=params, headers=real.auth(who))


def _problem(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body.get("field") == field or any(field in e["field"] for e in body.get("errors", [])), body
    return body


# ------------------------------------------------------------------ item 8
@pytest.mark.parametrize("who", WITHHOLDING)
def test_a_role_that_does_not_see_parties_cannot_filter_on_them(real: RealApp, who: str) -> None:
    """The auditor's and the analyst's views withhold the importer; `party=` answered which MRNs
    involve it. Now 403 naming the filter and the rule; the same for an LRN."""
    mrn = real.seed("gb")
    body = _problem(_list(real, who, party=GB_TRADER), 403, "party")
    assert "withholds" in body["detail"] and "filter on withheld data is refused" in body["detail"]
    assert mrn not in str(body)
    _problem(_list(real, who, lrn=real.declarations.header(mrn).lrn), 403, "lrn")
    # Officers see parties: the same filter answers them.
    found = _list(real, "officer", party=GB_TRADER)
    assert found.status_code == 200 and [i["mrn"] for i in found.json()["items"]] == [mrn]


@pytest.mark.parametrize("who", WITHHOLDING)
def test_lrns_reasons_and_findings_on_withheld_fields_are_withheld(real: RealApp, who: str) -> None:
    mrn = real.seed("gb")
    lrn = real.declarations.header(mrn).lrn
    listed = _list(real, who).json()["items"]
    assert [i["lrn"] for i in listed] == [None]
    read = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth(who))
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["lrn"] is None and "lrn" not in body["document"] and "confidential" in body["redacted"]
    assert body["events"] and all(e["reason"] is None for e in body["events"])
    assert lrn not in read.text
    # The officer's view is unchanged.
    officer = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).json()
    assert officer["lrn"] == lrn and officer["document"]["lrn"] == lrn
    assert any(e["reason"] for e in officer["events"])


def test_an_analyst_sees_no_finding_that_quotes_a_withheld_value(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding's message quotes its field's value: with the EORI rule as a warning (a pack an
    administration may ship), an importer's odd EORI is accepted and quoted in the finding; the
    analyst's view withholds the importer, so it gets no finding on it; the officer does."""
    pack = yaml.safe_load(
        (resources.files("clearguard.compliance.packs") / "default" / "2026.1.yaml").read_text("utf-8")
    )
    next(r for r in pack["rules"] if r["id"] == "CG-EORI-001")["severity"] = "warning"
    (tmp_path / "pack.yaml").write_text(yaml.safe_dump(pack, sort_keys=False), "utf-8")
    monkeypatch.setenv("CLEARGUARD_RULES_PACK", str(tmp_path / "pack.yaml"))
    real = make_real_app(engine, database_url)
    doc = real.document("gb")
    doc["importer"]["eori"] = "GB12"
    mrn = real.declarations.lodge(doc, Actor("seed", "system", "test")).mrn
    officer = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).json()
    assert [f["pointer"] for f in officer["findings"]] == ["/importer/eori"]
    analyst = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("analyst"))
    assert analyst.status_code == 200 and analyst.json()["findings"] == []
    assert "GB12" not in analyst.text


# ------------------------------------------------------------------ items 10a and 12: cursors
def test_cursors_are_opaque_and_forged_ones_are_a_422_naming_cursor(real: RealApp) -> None:
    mrns = {real.seed("gb") for _ in range(4)}
    seen: list[str] = []
    cursors: list[str] = []
    cursor: str | None = None
    while True:
        page = _list(real, "officer", limit=1, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        seen += [i["mrn"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
        cursors.append(cursor)
    assert set(seen) == mrns and len(seen) == 4
    for sealed in cursors:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        assert len(raw) == 37 and raw[0] == 1  # version, nonce, sealed id, tag: nothing to read
    # The same position sealed twice gives two different cursors (fresh nonce); both open.
    again = _list(real, "officer", limit=1).json()["next_cursor"]
    assert again != cursors[0]
    assert _list(real, "officer", limit=1, cursor=again).json()["items"][0]["mrn"] == seen[1]
    first = cursors[0]
    flipped = first[:-2] + ("A" if first[-2] != "A" else "B") + first[-1]
    old_style = base64.urlsafe_b64encode(b"9" * 40).decode().rstrip("=")
    for forged in (flipped, old_style, base64.urlsafe_b64encode(b"17").decode().rstrip("="), "!!", "x" * 64, "é"):
        body = _problem(_list(real, "officer", cursor=forged), 422, "cursor")
        assert body["type"] == "urn:clearguard:problem:invalid-cursor"
    _problem(_list(real, "officer", cursor="x" * 65), 422, "cursor")


# ------------------------------------------------------------------ item 10b: break glass
@pytest.mark.asvs("V14.2.1")
def test_break_glass_justification_travels_in_a_header_never_the_url(real: RealApp) -> None:
    mrn = real.seed("nl")
    why = "Joint investigation request NL-2026-004 (Zoë)"
    r = real.client.get(
        f"/api/v1/declarations/{mrn}",
        headers=real.auth("officer") | {"X-Justification": why.encode()},  # type: ignore[dict-item],
    )
    assert r.status_code == 200 and r.json()["break_glass"] is True, r.text
    from sqlalchemy import select

    from clearguard.audit.tables import AuditEventRow

    with real.client.app.state.services.session_factory() as session:  # type: ignore[attr-defined]
        recorded = session.scalars(
            select(AuditEventRow.justification).where(AuditEventRow.action == "declaration.break-glass")
        ).all()
    assert recorded == [why]
    in_url = real.client.get(f"/api/v1/declarations/{mrn}", params={"justification": why}, headers=real.auth("officer"))
    body = _problem(in_url, 400, "justification")
    assert "X-Justification header" in body["detail"]


# ------------------------------------------------------------------ item 10c: blue shown as green
class Blue(OneByOne):
    """Every declaration is released and selected for post-clearance audit."""

    def assess_declaration(self, session: Any, **_: Any) -> RiskOutcome:
        return RiskOutcome("blue", 0.4, {"reason": "post-clearance audit sample"})


def test_traders_and_brokers_see_a_blue_selection_as_green(engine: Engine, database_url: str) -> None:
    real = make_real_app(engine, database_url, risk=Blue())
    lodged = real.client.post("/api/v1/declarations", json=real.document("gb"), headers=real.auth("trader"))
    assert lodged.status_code == 201, lodged.text
    assert lodged.json()["channel"] == "green" and lodged.json()["status"] == "released"
    mrn = lodged.json()["mrn"]
    for who in ("trader", "broker"):
        listed = _list(real, who).json()["items"]
        assert [(i["mrn"], i["channel"]) for i in listed] == [(mrn, "green")]
        read = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth(who))
        assert read.json()["channel"] == "green"
        assert "blue" not in read.text, read.text
    for who in ("officer", "analyst"):
        assert real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth(who)).json()["channel"] == "blue"


# ------------------------------------------------------------------ item 14: EORI filter
@pytest.mark.parametrize("bad", ["GB12", "GB1234567890123", "XI12345", "NL1234", "ZZ123456789"])
def test_a_party_filter_is_checked_by_the_pack_s_eori_table(real: RealApp, bad: str) -> None:
    body = _problem(_list(real, "officer", party=bad), 422, "party")
    assert "(rule CG-EORI-001)" in body["detail"] and bad not in body["detail"]
    assert _list(real, "officer", party="gb123456789000").status_code == 200


# ------------------------------------------------------------------ item 12: found by the fuzzer
@pytest.mark.parametrize("name", ["lrn", "status"])
def test_a_nul_in_a_text_filter_is_a_422_not_a_500(real: RealApp, name: str) -> None:
    """PostgreSQL refuses NUL in text: `lrn=\\x00` answered 500 there; filters now take the stored
    values' shape only."""
    _problem(_list(real, "trader", **{name: "A\x00"}), 422, name)
