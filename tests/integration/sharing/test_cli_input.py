"""Bad input to `clearguard sharing`: one line naming the option or file and the rule, exit 2, and
nothing changed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.sharing import identity, jose
from tests.helpers import operator_cli
from tests.unit.sharing.partner_identity import partner_identity


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def instance(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return operator_cli(empty_database[0], tmp_path, monkeypatch)


def _one_line(code: int, output: str, *needles: str) -> None:
    assert code == 2, output
    assert output.count("\n") == 1 and "Traceback" not in output, output
    for needle in needles:
        assert needle in output, output


def test_identity_is_printed_and_keys_are_private(instance: Path) -> None:
    code, output = run("sharing", "identity", "--json")
    assert code == 0, output
    data = json.loads(output)
    parsed = identity.parse(data["document"])
    assert parsed.kid == data["kid"]
    keys = instance / "var" / "keys"
    for name in ("sharing-signing.jwk", "sharing-encryption.jwk", "sharing-pseudonym.wrapped"):
        assert (keys / name).stat().st_mode & 0o077 == 0
        assert (keys / name).read_bytes() not in output.encode()
    assert '"d"' not in output  # no private JWK member printed
    assert (keys / "tls" / "sharing-client-key.pem").stat().st_mode & 0o077 == 0


def test_bad_identity_files(instance: Path) -> None:
    partner = partner_identity()
    files = {
        "malformed.jws": "this is not a signed document\n",
        "binary.jws": "\x00\x01\x02",
        "resigned.jws": jose.sign(
            json.loads(base64.urlsafe_b64decode(partner.document.split(".")[1] + "==")),
            partner_identity("other.example").signing,
            typ=identity.TYP,
        ),
    }
    for name, text in files.items():
        (instance / name).write_text(text)
        code, output = run("sharing", "partner", "add", "nl", "--identity", str(instance / name))
        _one_line(code, output, "identity")
    code, output = run("sharing", "partner", "add", "nl", "--identity", "/dev/zero")
    _one_line(code, output, "/dev/zero")
    (instance / "ok.jws").write_text(partner.document)
    code, output = run("sharing", "partner", "add", "Bad Name!", "--identity", str(instance / "ok.jws"))
    _one_line(code, output, "partner name")
    assert run("sharing", "partner", "list", "--json") == (0, "[]\n")


def test_bad_agreement_options(instance: Path) -> None:
    (instance / "ok.jws").write_text(partner_identity().document)
    assert run("sharing", "partner", "add", "nl", "--identity", str(instance / "ok.jws"))[0] == 0
    base = ["sharing", "agreement", "create", "--partner", "nl", "--purpose", "p", "--legal-basis", "l"]
    dates = ["--from", "2026-01-01", "--until", "2026-12-31"]
    cases = [
        (["--allow", "biometric", *dates], "--allow"),
        (["--allow", "code,dna", *dates], "--allow"),
        (["--allow", "code", "--fields", "items/nothing", *dates], "--fields"),
        (["--allow", "code", "--fields", "invoice/amount", *dates], "--fields"),
        (["--allow", "code", "--from", "yesterday", "--until", "2026-12-31"], "--from"),
        (["--allow", "code", "--from", "2026-12-31", "--until", "2026-01-01"], "--until"),
        (["--allow", "code", "--max-per-day", "0", *dates], "--max-per-day"),
    ]
    for extra, option in cases:
        code, output = run(*base, *extra)
        _one_line(code, output, option)
    (instance / "junk.jws").write_text("junk")
    _one_line(*run("sharing", "agreement", "accept", str(instance / "junk.jws")), "agreement")
    _one_line(*run("sharing", "agreement", "show", "agr-123"), "agreement")
    _one_line(*run("sharing", "send", "26GB00000000000000", "--agreement", "nope"), "agreement")
    assert run("sharing", "agreement", "list", "--json") == (0, "[]\n")
    # An agreement the partner never accepted: exit 1, nothing sent.
    code, output = run(*base, "--allow", "code", *dates, "--json")
    assert code == 0, output
    agreement_id = json.loads(output)["id"]
    code, output = run("sharing", "send", "26GB00000000000000", "--agreement", agreement_id)
    assert code == 1 and "not yet accepted" in output, output
