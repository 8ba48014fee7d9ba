"""Two ClearGuard instances on loopback, each with its own var directory and database, on SQLite and
PostgreSQL: identities exchanged, an agreement proposed, accepted and countersigned, declarations
sent over mutual TLS and as a file, received, shown; what the agreement leaves out never leaves;
tampered, replayed, expired, redirected and unknown-field packages refused and recorded; the
receiver links two declarations of one trader by pseudonym without learning the EORI; a client
certificate from another CA is refused in the handshake."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import OKPKey
from sqlalchemy import Engine, text, update
from typer.testing import CliRunner

from clearguard.api.peer_certificate import partner_tls_kwargs
from clearguard.app import create_app
from clearguard.cli import app as cli_app
from clearguard.config import Settings
from clearguard.crypto.tls import issue, make_ca, uvicorn_ssl_kwargs
from clearguard.ledger import cosignature_verifier, open_checkpoint
from clearguard.sharing import envelope, sdjwt
from clearguard.sharing.keys import load_sharing_keys
from clearguard.sharing.tables import SharingPackageRow
from clearguard.wiring import build_services
from tests.helpers import example
from tests.unit.sharing.partner_identity import partner_identity

EORI = "GB123456789000"
SECRETS = ("Acme Imports", "15000.00", "INV-SZB-2026-0415", "Dock Road", "customs@acme-imports.example", EORI)


@dataclass
class Instance:
    name: str
    folder: Path
    env: dict[str, str]

    def cli(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli_app, list(args), env=self.env)
        assert result.exit_code == code, (args, result.exit_code, result.output)
        return result.output

    def json(self, *args: str) -> Any:
        """Standard output of a --json command (its progress, if any, goes to standard error)."""
        result = CliRunner().invoke(cli_app, [*args, "--json"], env=self.env)
        assert result.exit_code == 0, (args, result.exit_code, result.output)
        return json.loads(result.stdout)

    def settings(self) -> Settings:
        env = {k: v for k, v in self.env.items() if k != "CLEARGUARD_DEBUG"}
        keys = {k[len("CLEARGUARD_") :].lower(): v for k, v in env.items() if k.startswith("CLEARGUARD_")}
        return Settings(**keys)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def second_url(empty_database: tuple[str, Engine], tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as `empty_database`."""
    url, _engine = empty_database
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    base = os.environ["CLEARGUARD_TEST_POSTGRES_URL"]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    from clearguard import db

    admin = db.make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _instance(name: str, folder: Path, url: str, country: str, port: int) -> Instance:
    folder.mkdir()
    env = {
        "CLEARGUARD_DATABASE_URL": url,
        "CLEARGUARD_VAR_DIR": str(folder / "var"),
        "CLEARGUARD_ADMINISTRATION_NAME": f"Customs of {name}",
        "CLEARGUARD_COUNTRY": country,
        "CLEARGUARD_LEDGER_ORIGIN": f"{name}.example/ledger",
        "CLEARGUARD_LEDGER_WITNESS_NAME": f"{name}.example/witness",
        "CLEARGUARD_PUBLIC_URL": f"https://localhost:{port}",
        "CLEARGUARD_LEDGER_BATCH_INTERVAL_MS": "50",
        "CLEARGUARD_LEDGER_WITNESS_POLL_S": "0.5",
        "CLEARGUARD_DEBUG": "1",
    }
    instance = Instance(name, folder, env)
    instance.cli("init", "--no-demo")
    return instance


@contextmanager
def serving(instance: Instance, port: int) -> Iterator[None]:
    """The instance's real application behind uvicorn with TLS, as `clearguard serve` runs it: the
    handshake verifies client certificates against the registered partners' CAs."""
    settings = instance.settings()
    services = build_services(settings)
    assert services.sharing is not None
    tls = partner_tls_kwargs(services.sharing.partner_cas(), settings.keys_dir, settings)
    kwargs = uvicorn_ssl_kwargs(settings) | tls
    app = create_app(settings, services=services)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **kwargs))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(20)
        services.close()


def _opened(package: bytes, receiver: Instance, sender: Instance) -> envelope.OpenedPackage:
    """What the receiver's keys find inside a package (the test's own look, beside the service's)."""
    mine, theirs = load_sharing_keys(receiver.settings()), load_sharing_keys(sender.settings())
    return envelope.open_package(
        package,
        recipient=mine.kid,
        decryption_key=mine.encryption,
        decryption_kid=mine.encryption_kid,
        sender_key=lambda _iss, _kid: OKPKey.import_key(theirs.signing.as_dict(private=False)),
        now=datetime.now(UTC),
    )


def _sd_jwt_text(sd_jwt: str) -> str:
    """Every part of an SD-JWT decoded: the JWT payload and each disclosure."""
    jwt, *disclosures = sd_jwt.split("~")
    parts = [jwt.split(".")[1], *[d for d in disclosures if d]]
    return "\n".join(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode() for p in parts)


def _stored_bytes(instance: Instance, url: str) -> bytes:
    """Every byte the instance keeps: its var directory (keys, SQLite database) and, on PostgreSQL,
    a text dump of every table of its schema."""
    blob = b""
    for path in sorted((instance.folder / "var").rglob("*")):
        if path.is_file():
            blob += path.read_bytes()
    if not url.startswith("sqlite"):
        from clearguard import db
        from clearguard.tables import metadata

        engine = db.make_engine(url)
        try:
            with engine.connect() as conn:
                for table in metadata.sorted_tables:
                    for row in conn.execute(table.select()):
                        blob += repr(tuple(row)).encode()
        finally:
            engine.dispose()
    return blob


def _lodge(instance: Instance, lrn: str) -> str:
    doc = example("h1-import.json")
    doc["lrn"] = lrn
    path = instance.folder / f"{lrn}.json"
    path.write_text(json.dumps(doc))
    return str(instance.json("declarations", "lodge", str(path))["mrn"])


def _stranger_context(tmp_path: Path, server_ca: Path) -> ssl.SSLContext:
    """A client certificate issued by a CA no partner registered."""
    ca, ca_key = make_ca("stranger CA")
    cert, key = issue(ca, ca_key, "stranger", client=True)
    (tmp_path / "s.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "s-key.pem").write_bytes(pem)
    context = ssl.create_default_context(cafile=str(server_ca))
    context.load_cert_chain(tmp_path / "s.pem", tmp_path / "s-key.pem")
    return context


def test_two_administrations_share_under_an_agreement(
    empty_database: tuple[str, Engine], second_url: str, tmp_path: Path
) -> None:
    url_a = empty_database[0]
    port_a, port_b = _free_port(), _free_port()
    a = _instance("gb", tmp_path / "a", url_a, "GB", port_a)
    b = _instance("nl", tmp_path / "b", second_url, "NL", port_b)

    # Identities, exchanged and registered both ways.
    (tmp_path / "a.jws").write_text(a.cli("sharing", "identity"))
    (tmp_path / "b.json").write_text(b.cli("sharing", "identity", "--json"))
    a.cli("sharing", "partner", "add", "nl", "--identity", str(tmp_path / "b.json"))
    b.cli("sharing", "partner", "add", "gb", "--identity", str(tmp_path / "a.jws"))
    assert [p["name"] for p in a.json("sharing", "partner", "list")] == ["nl"]

    # Codes and trade data, parties pseudonymised, item descriptions withheld (digests only).
    today = date.today()
    created = a.json(
        "sharing", "agreement", "create", "--partner", "nl", "--purpose", "risk analysis of imports",
        "--legal-basis", "UCC art. 47 and the GB-NL customs agreement", "--allow", "code,trade",
        "--fields", "type,declarant,items/commodity_code,items/origin_country,items/net_mass_kg,gross_mass_kg",
        "--pseudonymise", "--from", today.isoformat(), "--until", (today + timedelta(days=30)).isoformat(),
        "--max-per-day", "4", "--out", str(tmp_path / "agreement.jws"),
    )  # fmt: skip
    agreement_id = created["id"]
    mrn1 = _lodge(a, "SHARE-0001")
    # Not yet accepted by the partner: nothing leaves.
    assert "not yet accepted" in a.cli("sharing", "send", mrn1, "--agreement", agreement_id, code=1)
    b.cli("sharing", "agreement", "accept", str(tmp_path / "agreement.jws"), "--out", str(tmp_path / "counter.jws"))
    assert a.json("sharing", "agreement", "countersign", str(tmp_path / "counter.jws"))["status"] == "accepted"

    b_ca = b.folder / "var" / "keys" / "tls" / "ca.pem"
    inbox_url = f"https://localhost:{port_b}/api/v1/sharing/inbox"
    with serving(b, port_b):
        # Over mutual TLS, to the partner's inbox.
        sent = a.json("sharing", "send", mrn1, "--agreement", agreement_id)
        # A declaration leaving for a partner is an export in the activity that detection watches.
        exports = [x for x in a.json("detection", "activity")["activity"] if x["action"] == "declaration.export"]
        assert len(exports) == 1 and exports[0]["outcome"] == "success" and mrn1 not in str(exports)
        assert sent["delivered"]["partner"] == "gb"
        assert sent["withheld"] > 0 and sent["disclosed"] > 0

        # A client certificate from another CA is refused in the handshake.
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.post(inbox_url, content=b"x", verify=_stranger_context(tmp_path, b_ca), timeout=10)
        # No client certificate: the TLS connection is made, the inbox refuses it (problem+json).
        answer = httpx.post(inbox_url, content=b"x", verify=str(b_ca), timeout=10)
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")

    # Another registered partner's certificate carrying gb's package: refused (the certificate must
    # be the signer's), and recorded; with gb's own certificate, no bearer token reaches another route.
    third = partner_identity("fr.example")
    (tmp_path / "fr.jws").write_text(third.document)
    b.cli("sharing", "partner", "add", "fr", "--identity", str(tmp_path / "fr.jws"))
    (tmp_path / "fr.pem").write_text(str(third.fields["client_certificate"]))
    (tmp_path / "fr-key.pem").write_bytes(third.client_key_pem)
    mrn_x = _lodge(a, "SHARE-000X")
    a.cli("sharing", "send", mrn_x, "--agreement", agreement_id, "--out", str(tmp_path / "px.jose"))
    with serving(b, port_b):
        as_fr = ssl.create_default_context(cafile=str(b_ca))
        as_fr.load_cert_chain(tmp_path / "fr.pem", tmp_path / "fr-key.pem")
        answer = httpx.post(inbox_url, content=(tmp_path / "px.jose").read_bytes(), verify=as_fr, timeout=30)
        assert answer.status_code == 422 and answer.json()["reason"] == "unknown-sender", answer.text
        tls_a = a.folder / "var" / "keys" / "tls"
        as_gb = ssl.create_default_context(cafile=str(b_ca))
        as_gb.load_cert_chain(tls_a / "sharing-client.pem", tls_a / "sharing-client-key.pem")
        agreements_url = f"https://localhost:{port_b}/api/v1/sharing/agreements"
        assert httpx.get(agreements_url, verify=as_gb, timeout=10).status_code == 401
        # Odd bytes from a registered partner: a problem+json naming the reason, never a 500.
        for junk in (b"", b"garbage", b"\xff" * 100, b"a.b.c.d.e", (tmp_path / "px.jose").read_bytes()[:-10]):
            answer = httpx.post(inbox_url, content=junk, verify=as_gb, timeout=30)
            assert answer.status_code in (400, 422), (junk[:20], answer.status_code, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")

    # As a file, for other channels.
    mrn2 = _lodge(a, "SHARE-0002")
    a.cli("sharing", "send", mrn2, "--agreement", agreement_id, "--out", str(tmp_path / "p2.jose"))
    package = (tmp_path / "p2.jose").read_bytes()
    received = b.json("sharing", "import", str(tmp_path / "p2.jose"))
    assert received["partner"] == "gb"

    # Nothing outside the agreement left: not in the package, whatever key opens it.
    inside = _opened(package, b, a)
    disclosed_text = _sd_jwt_text(inside.body["sd_jwt"])
    for secret in SECRETS:
        assert secret not in disclosed_text, secret
    assert "Smartphones" not in disclosed_text  # trade, but outside --fields: withheld (digest only)

    # The receiver links the two declarations by pseudonym, and never learns the EORI.
    inbox = [r for r in b.json("sharing", "inbox") if r["status"] == "received"]
    assert len(inbox) == 2
    shown = [b.json("sharing", "show", r["id"]) for r in inbox]
    pseudonyms = {s["claims"]["declarant"]["eori"] for s in shown}
    assert len(pseudonyms) == 1 and next(iter(pseudonyms)).startswith("pn:")
    assert shown[0]["claims"]["items"][0]["commodity_code"] == "8517130000"
    assert "description" not in shown[0]["claims"]["items"][0]
    stored = _stored_bytes(b, second_url)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret

    # Only the sender re-identifies (the DPO's reason is audited).
    pseudonym = next(iter(pseudonyms))
    assert a.cli("sharing", "reidentify", pseudonym, "--partner", "nl", "--reason", "case 17").strip() == EORI
    b.cli("sharing", "reidentify", pseudonym, "--partner", "gb", "--reason", "curious", code=1)

    # Refusals: each named, recorded as a refused receipt, nothing stored.
    tampered = bytearray(package)
    tampered[len(tampered) // 2] ^= 0x01
    (tmp_path / "tampered.jose").write_bytes(bytes(tampered))
    b.cli("sharing", "import", str(tmp_path / "tampered.jose"), code=1)
    assert "replayed" in b.cli("sharing", "import", str(tmp_path / "p2.jose"), code=1)

    keys_a, keys_b = load_sharing_keys(a.settings()), load_sharing_keys(b.settings())
    b_public = OKPKey.import_key(keys_b.encryption.as_dict(private=False))

    def forged(body: dict[str, Any], *, now: datetime, recipient_key: Any = b_public, agreement: str = "") -> str:
        data = envelope.seal(
            body, kind="declaration", agreement=agreement or agreement_id, sender=keys_a.kid, recipient=keys_b.kid,
            signing_key=keys_a.signing, signing_kid=keys_a.kid, recipient_key=recipient_key,
            recipient_kid=keys_b.encryption_kid, now=now, ttl=timedelta(minutes=10),
        )  # fmt: skip
        path = tmp_path / f"forged-{uuid.uuid4().hex[:8]}.jose"
        path.write_bytes(data)
        return str(path)

    now = datetime.now(UTC)
    assert "expired" in b.cli("sharing", "import", forged(inside.body, now=now - timedelta(hours=1)), code=1)
    redirected = forged(inside.body, now=now, recipient_key=OKPKey.generate_key("X25519"))
    assert "wrong-recipient" in b.cli("sharing", "import", redirected, code=1)
    unknown = forged(dict(inside.body) | {"note": "unexpected"}, now=now)
    assert "unknown-field" in b.cli("sharing", "import", unknown, code=1)
    rows = b.json("sharing", "inbox")
    refused = [r["reason"] for r in rows if r["status"] == "refused"]
    assert len(refused) == 11 and {"replayed", "expired", "wrong-recipient", "unknown-field"} <= set(refused)
    assert "unknown-sender" in refused
    assert len([r for r in rows if r["status"] == "received"]) == 2

    # A forged ledger proof, a field outside the categories, a signature by another key, an
    # agreement the receiver never accepted: each refused by name.
    salted = dict(inside.body) | {"ledger": inside.body["ledger"] | {"salt": base64.b64encode(os.urandom(32)).decode()}}
    assert "ledger-proof" in b.cli("sharing", "import", forged(salted, now=now), code=1)
    claims = {"iss": keys_a.kid, "jti": inside.body["package"], "declarant": {"name": "Acme Imports Ltd"}}
    outside = sdjwt.issue(claims, key=keys_a.signing, kid=keys_a.kid).serialise()
    leaked = forged(dict(inside.body) | {"sd_jwt": outside}, now=now)
    assert "outside-agreement" in b.cli("sharing", "import", leaked, code=1)
    impostor = sdjwt.issue(claims, key=OKPKey.generate_key("Ed25519"), kid=keys_a.kid).serialise()
    assert "bad-signature" in b.cli(
        "sharing", "import", forged(dict(inside.body) | {"sd_jwt": impostor}, now=now), code=1
    )

    never = forged(inside.body, now=now, agreement="agr-" + "0" * 32)
    assert "outside-agreement" in b.cli("sharing", "import", never, code=1)  # an agreement it never accepted
    # The receiving side never sends under the partner's agreement.
    assert "only receive" in b.cli("sharing", "send", mrn1, "--agreement", agreement_id, code=1)

    # Revoked on the receiving side: the sender's next package is refused there.
    b.cli("sharing", "agreement", "revoke", agreement_id, "--reason", "ended early")
    mrn3 = _lodge(a, "SHARE-0003")
    a.cli("sharing", "send", mrn3, "--agreement", agreement_id, "--out", str(tmp_path / "p3.jose"))
    assert "outside-agreement" in b.cli("sharing", "import", str(tmp_path / "p3.jose"), code=1)
    # The daily maximum (4) is reached on the sending side.
    assert "a day at most" in a.cli("sharing", "send", mrn3, "--agreement", agreement_id, code=1)

    rows = b.json("sharing", "inbox")
    assert len([r for r in rows if r["status"] == "received"]) == 2
    assert len([r for r in rows if r["status"] == "refused"]) == 16
    # Every receipt and refusal is in the receiver's ledger, every send in the sender's.
    assert all(isinstance(r["ledger_index"], int) for r in rows)

    # A countersignature goes back to the proposer over mutual TLS when it is reachable.
    second = a.json(
        "sharing", "agreement", "create", "--partner", "nl", "--purpose", "statistics", "--legal-basis", "art. 12",
        "--allow", "code", "--from", today.isoformat(), "--until", today.isoformat(),
        "--out", str(tmp_path / "second.jws"),
    )  # fmt: skip
    with serving(a, port_a):
        accepted = b.json("sharing", "agreement", "accept", str(tmp_path / "second.jws"))
    assert accepted["delivered"] is True
    assert a.json("sharing", "agreement", "show", second["id"])["status"] == "accepted"

    # Both ledgers verify, the sharing entries included; an edited package row is named.
    a.cli("ledger", "verify")
    b.cli("ledger", "verify")
    settings_b = b.settings()
    services_b = build_services(settings_b)
    try:
        with services_b.session_factory() as session, session.begin():
            session.execute(
                update(SharingPackageRow).where(SharingPackageRow.direction == "refused").values(reason="expired")
            )
    finally:
        services_b.close()
    assert "altered" in b.cli("ledger", "verify", code=1)

    # Past the agreement's retention date the received claims are deleted; the ledger still verifies.
    assert b.json("sharing", "dispose")["disposed"] == 0
    services_b = build_services(settings_b)
    try:
        with services_b.session_factory() as session, session.begin():
            session.execute(
                update(SharingPackageRow)
                .where(SharingPackageRow.direction == "received")
                .values(retain_until=today - timedelta(days=1))  # as if the retention period had passed
            )
    finally:
        services_b.close()
    # The retention run disposes of them with everything else (`sharing dispose` does it alone).
    assert b.json("retention", "run", "--dry-run")["disposed"]["exchange_packages"] == 2
    assert b.json("retention", "run", "--yes")["disposed"]["exchange_packages"] == 2
    assert b.json("retention", "run", "--yes")["disposed"]["exchange_packages"] == 0
    received = [r["id"] for r in b.json("sharing", "inbox") if r["status"] == "received"]
    assert received and all(b.json("sharing", "show", r)["claims"] == "[disposed]" for r in received)
    verified = b.cli("ledger", "verify", code=1)  # the refused row edited above is still named ...
    assert "ref-" in verified and "rcv-" not in verified  # ... but no disposed package is


def test_registered_partners_cosign_and_mirror_each_other_with_no_ca_file(
    empty_database: tuple[str, Engine], second_url: str, tmp_path: Path
) -> None:
    """`sharing partner add` is all an operator does: each instance then reaches the other's witness
    and log with the CA of the partner's identity document (no CLEARGUARD_LEDGER_PARTNER_CA_FILE),
    cosigns its checkpoints, and mirrors its tiles, verified, with `sharing mirror`."""
    port_a, port_b = _free_port(), _free_port()
    a = _instance("gb", tmp_path / "a", empty_database[0], "GB", port_a)
    b = _instance("nl", tmp_path / "b", second_url, "NL", port_b)
    (tmp_path / "a.jws").write_text(a.cli("sharing", "identity"))
    (tmp_path / "b.jws").write_text(b.cli("sharing", "identity"))
    a.cli("sharing", "partner", "add", "nl", "--identity", str(tmp_path / "b.jws"))
    b.cli("sharing", "partner", "add", "gb", "--identity", str(tmp_path / "a.jws"))
    assert "CLEARGUARD_LEDGER_PARTNER_CA_FILE" not in a.env
    a_ca = a.folder / "var" / "keys" / "tls" / "ca.pem"
    b_vkey = b.cli("ledger", "witness", "key").strip()

    with serving(b, port_b), serving(a, port_a):
        _lodge(a, "WITNESS-0001")
        deadline = time.monotonic() + 30
        while True:
            note = httpx.get(f"https://localhost:{port_a}/ledger/checkpoint", verify=str(a_ca), timeout=10).text
            if "\n— nl.example/witness " in note:
                break
            assert time.monotonic() < deadline, f"nl never cosigned gb's checkpoint:\n{note}"
            time.sleep(0.2)
        opened = open_checkpoint(note, [cosignature_verifier(b_vkey)], "gb.example/ledger")
        assert opened.checkpoint.size >= 1
        mirrored = b.json("sharing", "mirror")
    assert [(m["origin"], m["ok"]) for m in mirrored] == [("gb.example/ledger", True)], mirrored
    folder = Path(mirrored[0]["directory"])
    assert (folder / "checkpoint").is_file()
    gb_key = a.cli("ledger", "key").strip()
    b.cli("ledger", "verify", "--tiles", str(folder), "--key", gb_key)
