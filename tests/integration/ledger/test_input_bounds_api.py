"""Oversized numbers on the public ledger endpoints and the receipt route answer 4xx problem+json,
never a 500: through the real application (clearguard.app.create_app, wired by build_services), on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from clearguard.ledger.note import Ed25519Signer, sign_note
from tests.integration.api.app_env import RealApp, make_real_app

HUGE = "9" * 5000
ROOT_B64 = "A" * 43 + "="


@pytest.fixture
def real_app(database_url_and_engine: tuple[str, Engine]) -> Iterator[RealApp]:
    url, engine = database_url_and_engine
    yield make_real_app(engine, url)


def _is_problem(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code") == status, getattr(response, "text")
    assert getattr(response, "headers")["content-type"].startswith("application/problem+json")
    body = getattr(response, "json")()
    assert body["status"] == status and "Traceback" not in getattr(response, "text")
    return dict(body)


@pytest.mark.parametrize(
    "path",
    [
        "/ledger/tile/0/" + "x123/" * 1500 + "000",  # 4,503 digits of index
        "/ledger/tile/" + "1" * 5000 + "/000",  # 5,000 digits of level
        "/ledger/tile/entries/" + "x999/" * 6 + "999",  # past 2**64
        "/ledger/tile/0/000.p/" + "9" * 5000,
    ],
    ids=["4503-digit-index", "5000-digit-level", "index-past-2**64", "5000-digit-width"],
)
def test_tile_paths_with_thousands_of_digits_are_404_problems(real_app: RealApp, path: str) -> None:
    body = _is_problem(real_app.client.get(path), 404)
    assert "tlog-tiles path" in str(body["detail"])
    # A real tile still answers.
    assert real_app.client.get("/ledger/checkpoint").status_code in (200, 404)


def _signed(body: str) -> str:
    return sign_note(body, [Ed25519Signer("clearguard.local/ledger", Ed25519PrivateKey.generate())])


def test_witness_add_checkpoint_with_5000_digit_sizes_is_400_problem(real_app: RealApp) -> None:
    client = real_app.client
    url = "/ledger/witness/add-checkpoint"
    small = _signed("clearguard.local/ledger\n1\n" + ROOT_B64 + "\n")
    old = _is_problem(client.post(url, content=("old " + HUGE + "\n\n" + small).encode()), 400)
    assert "old <size>" in str(old["detail"])
    big = _signed("clearguard.local/ledger\n" + HUGE + "\n" + ROOT_B64 + "\n")
    size = _is_problem(client.post(url, content=("old 0\n\n" + big).encode()), 400)
    assert "tree size" in str(size["detail"])
    _is_problem(client.post(url, content=(f"old {2**64}\n\n" + small).encode()), 400)


def test_receipt_version_past_the_column_is_422_problem(real_app: RealApp) -> None:
    mrn = real_app.seed("gb")
    client, auth = real_app.client, real_app.auth("auditor")
    for version in (str(2**70), str(2**40), str(2**31), HUGE):
        body = _is_problem(
            client.get(f"/api/v1/declarations/{mrn}/receipt", params={"version": version}, headers=auth), 422
        )
        assert "version" in str(body["detail"])
    assert client.get(f"/api/v1/declarations/{mrn}/receipt", params={"version": "1"}, headers=auth).status_code == 200
    missing = client.get(f"/api/v1/declarations/{mrn}/receipt", params={"version": str(2**31 - 1)}, headers=auth)
    _is_problem(missing, 404)


def test_ledger_receipt_index_past_any_tree_is_4xx_problem(real_app: RealApp) -> None:
    auth = real_app.auth("auditor")
    _is_problem(real_app.client.get(f"/ledger/receipts/{2**70}", headers=auth), 404)
    _is_problem(real_app.client.get(f"/ledger/receipts/{HUGE}", headers=auth), 422)
