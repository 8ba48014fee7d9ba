"""A partner re-registered with a renewed identity (same signing key, new mTLS client certificate):
the new certificate opens the inbox and the old one, perhaps the compromised one being rotated out,
opens nothing more. Both databases, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.config import Settings
from clearguard.sharing import identity
from clearguard.wiring import build_services
from tests.helpers import operator_cli
from tests.unit.sharing.partner_identity import partner_identity


def test_a_renewed_identity_rotates_the_trusted_client_certificate(
    empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = operator_cli(empty_database[0], tmp_path, monkeypatch)
    first = partner_identity("nl.example")
    same = {k: first.fields[k] for k in ("signing_key", "encryption_key", "ledger_vkey", "witness_vkey")}
    renewed = partner_identity("nl.example", **same)
    old_fp, new_fp = (identity.parse(p.document).client_fingerprint for p in (first, renewed))
    assert old_fp != new_fp
    for n, partner in enumerate((first, renewed)):
        (folder / f"nl{n}.jws").write_text(partner.document)
        result = CliRunner().invoke(app, ["sharing", "partner", "add", "nl", "--identity", str(folder / f"nl{n}.jws")])
        assert result.exit_code == 0, result.output
    services = build_services(Settings())
    try:
        assert services.sharing is not None
        [listed] = services.sharing.list_partners()
        assert listed["client_certificate_sha256"] == new_fp
        assert services.sharing.partner_for_certificate(new_fp) == "nl"
        assert services.sharing.partner_for_certificate(old_fp) is None
    finally:
        services.close()
