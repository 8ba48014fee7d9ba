"""Witnessing in both directions and mirroring (issue 15, deliverable 7), between two real instances
on loopback, each the other's witness and mirror, on both databases."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from clearguard import db
from clearguard.audit.service import AuditEvent, AuditQuery, NewAuditEvent
from clearguard.crypto.tls import TlsFiles
from clearguard.ledger import Checkpoint, cosignature_verifier, decode_entry, open_checkpoint, verify_consistency
from clearguard.ledger.cosignature import CosignatureSigner
from clearguard.ledger.mirror import mirror_dir
from clearguard.ledger.note import Ed25519Signer
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tables import MirrorRow, WitnessAlertRow, WitnessedLog, WitnessPeer
from clearguard.ledger.tiles import entries_path
from clearguard.ledger.tiles_dir import publish, verify_tiles_dir
from clearguard.ledger.witness_service import WitnessService, submit_all
from clearguard.tables import metadata
from tests.helpers import example
from tests.integration.ledger.witnessing_env import (
    SEED,
    Instance,
    free_port,
    local_ca,
    partner,
    second_database,
    start_instance,
    static_host,
    wait_for,
)


@pytest.fixture
def pair(empty_database: tuple[str, Engine], tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    second = second_database(empty_database, tmp_path)
    b_url, b_engine = next(second)
    bundle = tmp_path / "partner-cas.pem"  # each trusts the other's CA (and its own, for the tests' calls)
    bundle.write_bytes(b"".join(local_ca(tmp_path / x / "var").read_bytes() for x in ("a", "b")))
    a = start_instance("a", empty_database[0], empty_database[1], tmp_path / "a" / "var", bundle)
    b = start_instance("b", b_url, b_engine, tmp_path / "b" / "var", bundle)
    try:
        partner(a, b)
        partner(b, a)
        yield a, b
    finally:
        a.stop()  # both at once: each holds a connection to the other's server
        b.stop()
        a.join()
        b.join()
        a.services.close()
        b.services.close()
        next(second, None)


def audit_burst(instance: Instance, count: int) -> None:
    """Audit events: each a ledger entry, as every access to protected data makes."""
    events = [
        NewAuditEvent("officer-1", "officer", "declaration.read", "declaration", f"R{i}", None, "test")
        for i in range(count)
    ]
    with instance.factory() as session, session.begin():
        instance.services.audit.record_many(session, events)


def cosigned(a: Instance, b: Instance) -> Checkpoint | None:
    """A's published checkpoint once every entry is integrated and B's witness has cosigned it."""
    with a.factory() as session:
        if a.services.ledger.pending(session):
            return None
        latest = a.services.ledger.latest(session)
    with a.http() as client:
        note = client.get(a.url + "/ledger/checkpoint").text
    witness = cosignature_verifier(b.witness.vkey())
    opened = open_checkpoint(note, [a.services.ledger.verifier, witness], a.origin)
    if latest is None or opened.checkpoint != latest.checkpoint:
        return None
    if not any(sig.name == witness.name for sig in opened.note.verified):
        return None
    return opened.checkpoint


def witnessed(b: Instance, origin: str) -> tuple[int, bytes | None]:
    with b.factory() as session:
        row = session.get(WitnessedLog, origin)
        assert row is not None
        return int(row.size), row.root


def alerts(instance: Instance) -> list[dict[str, Any]]:
    with instance.factory() as session:
        return instance.witness.alerts(session)


def fork_of(
    a: Instance, tmp_path: Path, name: str, size: int, rewrite: int
) -> tuple[LedgerService, sessionmaker[Session]]:
    """A second history signed with A's own log key: A's first `size` entries with entry `rewrite`
    replaced (and any more up to `size`)."""
    engine = db.make_engine(f"sqlite:///{tmp_path / (name + '.db')}")
    metadata.create_all(engine)
    factory = db.make_session_factory(engine)
    forked = LedgerService(a.services.ledger.signer, entry_check=None)
    with a.factory() as session:
        entries = [a.services.ledger.entry(session, i) or b"" for i in range(size)]
    entries[rewrite] = b"clearguard/entry/v1\nrewritten\nhistory\n"
    with factory() as session, session.begin():
        forked.append_many(session, entries)
        forked.integrate(session, max_entries=size)
    return forked, factory


def test_lodgings_are_cosigned_by_the_partner_and_mirrored_incrementally(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    a.lodge(3)
    first = wait_for(lambda: cosigned(a, b), "B to cosign A's first checkpoint")
    assert witnessed(b, a.origin) == (first.size, first.root)

    audit_burst(a, 300)  # crosses a full tile: the next submission carries a consistency proof
    a.lodge(2)
    second = wait_for(lambda: (c := cosigned(a, b)) and c.size > first.size and c, "B to cosign A's growth")
    assert witnessed(b, a.origin) == (second.size, second.root)
    with a.factory() as session:
        proof = a.services.ledger.consistency_proof(session, first.size, second.size)
        report = a.services.ledger.verify(session)
    verify_consistency(first.size, second.size, proof, first.root, second.root)
    assert report.ok, report.problems

    # Both directions: B's own lodgings are cosigned by A.
    b.lodge(1)
    wait_for(lambda: cosigned(b, a), "A to cosign B's checkpoint")

    # B mirrors A through the CLI: verified, adopted, stored in the tlog-tiles layout.
    run = b.cli("ledger", "mirror", "--json")
    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)
    assert result["origin"] == a.origin and result["adopted"] and result["size"] == second.size
    assert result["cosigned_by"] == b.witness.signer.name
    folder = mirror_dir(b.settings.var_dir / "mirrors", a.origin)
    assert Path(result["directory"]) == folder
    offline = b.cli_process(
        "ledger", "verify", "--tiles", str(folder), "--key", a.services.ledger.vkey(), "--origin", a.origin
    )
    assert offline.returncode == 0, offline.stderr
    assert f"size {second.size}" in offline.stdout

    # Nothing new: one request, the checkpoint.
    paths: list[str] = []
    hooks = {"request": [lambda request: paths.append(request.url.path)]}
    mirrors = b.witness.mirrors()
    with b.http(event_hooks=hooks) as client:
        [same] = mirrors.mirror_all(b.factory, client)
        assert same.ok and not same.adopted and paths == ["/ledger/checkpoint"]

        # A grows a little: only the right edge is fetched, never a full tile already mirrored.
        audit_burst(a, 7)
        third = wait_for(lambda: (c := cosigned(a, b)) and c.size > second.size and c, "B to cosign again")
        paths.clear()
        [grown] = mirrors.mirror_all(b.factory, client)
    assert grown.adopted and grown.size == third.size, grown.detail
    last_bundle = f"/ledger/tile/entries/{second.size // 256:03d}"
    assert all(p == "/ledger/checkpoint" or p.startswith(last_bundle) or ".p/" in p for p in paths), paths
    assert grown.requests == len(paths) <= 1 + 1 + 2  # checkpoint, one bundle, the edge of each level
    assert grown.bytes < result["bytes"] / 4
    assert verify_tiles_dir(folder, a.services.ledger.vkey(), origin=a.origin).size == third.size
    assert alerts(a) == [] and alerts(b) == []


@pytest.mark.asvs("V16.4.3")
def test_a_forked_ledger_is_caught_by_the_partners_witness(pair: tuple[Instance, Instance], tmp_path: Path) -> None:
    a, b = pair
    a.lodge(2)
    audit_burst(a, 20)
    good = wait_for(lambda: cosigned(a, b), "B to cosign A")
    witness_name = b.witness.signer.name

    # A second history, larger, signed with A's key, sent to B's witness from the size B cosigned.
    forked, fork_factory = fork_of(a, tmp_path, "fork", good.size, rewrite=3)
    with fork_factory() as session, session.begin():
        forked.append_many(session, [b"more"] * 20)
        forked.integrate(session)
        session.add(
            WitnessPeer(name=witness_name, vkey=b.witness.vkey(), url=b.url + "/ledger/witness", size=good.size)
        )
    with b.http() as client:
        [refused] = submit_all(forked, fork_factory, client)
        assert not refused.ok and refused.detail.startswith("422"), refused.detail
        [again] = submit_all(forked, fork_factory, client)  # the partner insists: still one alert
        assert not again.ok
    assert witnessed(b, a.origin) == (good.size, good.root)  # not cosigned
    with fork_factory() as session:
        note = forked.latest_note(session) or ""
    assert witness_name not in note

    [alert] = alerts(b)
    known, seen = alert["known"], alert["seen"]
    assert alert["origin"] == a.origin and alert["kind"] == "proof-refused"
    assert (known["size"], known["root"]) == (good.size, _b64(good.root))
    assert seen["size"] == good.size + 20 and seen["checkpoint"].startswith(f"{a.origin}\n{good.size + 20}\n")
    with b.factory() as session:
        entry = decode_entry(b.services.ledger.entry(session, alert["ledger_index"]) or b"")
        events = b.services.audit.query(session, AuditQuery(action="ledger.witness.alert"))
    assert (entry.kind, entry.record_id) == ("ledger.witness-alert", alert["id"])
    assert [(e.record_id, e.outcome, (e.details or {})["alert"]) for e in events] == [(a.origin, "denied", alert["id"])]

    # The same size with another root: two signed trees, a proven fork (409, as tlog-witness says).
    same, same_factory = fork_of(a, tmp_path, "same", good.size, rewrite=1)
    with same_factory() as session, session.begin():
        session.add(
            WitnessPeer(name=witness_name, vkey=b.witness.vkey(), url=b.url + "/ledger/witness", size=good.size)
        )
    with b.http() as client:
        [conflict] = submit_all(same, same_factory, client)
    assert conflict.detail.startswith("409"), conflict.detail

    shown = b.cli("ledger", "witness", "alerts", "--json")
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)
    assert [x["kind"] for x in listed] == ["proof-refused", "fork-refused"]
    assert listed[1]["known"]["size"] == listed[1]["seen"]["size"] == good.size
    assert listed[1]["known"]["root"] != listed[1]["seen"]["root"]
    text = b.cli("ledger", "witness", "alerts")
    assert text.returncode == 0 and a.origin in text.stdout and "fork-refused" in text.stdout

    # The alerts are in B's signed log, and an edited alert is caught by `ledger verify`.
    b.services.ledger.integrate_all(b.factory)
    with b.factory() as session:
        assert b.services.ledger.verify(session).ok
    with b.factory() as session, session.begin():
        session.execute(update(WitnessAlertRow).values(detail="nothing happened"))
    with b.factory() as session:
        report = b.services.ledger.verify(session)
    assert not report.ok and any("ledger.witness-alert" in str(p) for p in report.problems)

    # A's honest log goes on being cosigned.
    a.lodge(1)
    wait_for(lambda: (c := cosigned(a, b)) and c.size > good.size, "B to cosign A after the forks")


def test_the_mirror_refuses_tampered_tiles_and_a_forked_tree(pair: tuple[Instance, Instance], tmp_path: Path) -> None:
    a, b = pair
    a.lodge(2)
    audit_burst(a, 300)
    good = wait_for(lambda: cosigned(a, b), "B to cosign A")
    host = static_host(tmp_path / "static")
    try:
        with a.factory() as session:
            publish(session, host.folder / "ledger")
        with b.factory() as session, session.begin():  # A serves its tiles from a static host (a CDN)
            session.execute(update(MirrorRow).where(MirrorRow.origin == a.origin).values(url=host.url + "/ledger"))
        mirrors = b.witness.mirrors()
        folder = mirror_dir(b.settings.var_dir / "mirrors", a.origin)

        # A hash tile that is not the hash of its entries.
        tile = host.folder / "ledger" / "tile" / "0" / "000"
        original = tile.read_bytes()
        tile.write_bytes(original[:100] + bytes([original[100] ^ 1]) + original[101:])
        with b.http() as client:
            [refused] = mirrors.mirror_all(b.factory, client)
        assert not refused.ok and not refused.adopted and refused.alert, refused.detail
        assert "tile/0/000" in refused.detail
        assert not (folder / "checkpoint").exists()
        assert _mirrored(b.factory, a.origin) == 0

        tile.write_bytes(original)
        with b.http() as client:
            [adopted] = mirrors.mirror_all(b.factory, client)
        assert adopted.adopted and adopted.size == good.size, adopted.detail

        # A second history of the same size, signed with A's key, served in place of the first.
        _, fork_factory = fork_of(a, tmp_path, "fork", good.size, rewrite=5)
        with fork_factory() as session:
            publish(session, host.folder / "ledger")
        with b.http() as client:
            [fork] = mirrors.mirror_all(b.factory, client)
        assert not fork.ok and fork.alert and "different roots" in fork.detail, fork.detail
        assert _mirrored(b.factory, a.origin) == good.size
        assert verify_tiles_dir(folder, a.services.ledger.vkey(), origin=a.origin).root == good.root

        # The real log grows; its next entry bundle is served with one byte changed.
        a.lodge(1)
        grown = wait_for(lambda: (c := cosigned(a, b)) and c.size > good.size and c, "B to cosign A's growth")
        with a.factory() as session:
            publish(session, host.folder / "ledger")
        bundle = host.folder / "ledger" / entries_path(grown.size // 256, grown.size % 256)
        data = bundle.read_bytes()
        bundle.write_bytes(data[:-1] + bytes([data[-1] ^ 0x20]))
        with b.http() as client:
            [bad_entries] = mirrors.mirror_all(b.factory, client)
        assert not bad_entries.ok and bad_entries.alert and "root" in bad_entries.detail, bad_entries.detail
        assert _mirrored(b.factory, a.origin) == good.size

        bundle.write_bytes(data)
        with b.http() as client:
            [caught_up] = mirrors.mirror_all(b.factory, client)
        assert caught_up.adopted and caught_up.size == grown.size, caught_up.detail
        assert verify_tiles_dir(folder, a.services.ledger.vkey(), origin=a.origin).size == grown.size
    finally:
        host.stop()
    kinds = sorted(str(x["kind"]) for x in alerts(b))
    assert kinds == ["mirror-refused"] * 3


@pytest.mark.asvs("V16.5.2")
def test_an_unreachable_partner_never_breaks_lodging(
    pair: tuple[Instance, Instance], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair
    caplog.set_level(logging.WARNING, logger="clearguard.ledger")
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    c_log = Ed25519Signer("c.customs.example/ledger", Ed25519PrivateKey.generate())
    c_witness = CosignatureSigner("c.customs.example/witness", Ed25519PrivateKey.generate())
    with a.factory() as session, session.begin():
        a.witness.register_partner(
            session, name="c", origin=c_log.name, log_vkey=c_log.vkey(), witness_vkey=c_witness.vkey(), url=gone
        )

    a.lodge(3)
    doc = example("h7-low-value.json")
    doc["lrn"] = "A-WIT-RECEIPT-1"
    result = a.services.declarations.lodge(doc, SEED, receipt=True)
    assert result.receipt is not None  # signed on the lodging's path, whatever C does
    wait_for(lambda: cosigned(a, b), "B to cosign A while C is down")
    failures = wait_for(lambda: _submit_failures(a), "the failed submission to C to be audited")
    assert [(e.record_id, e.outcome) for e in failures] == [(c_witness.name, "failed")]
    assert any(c_witness.name in r.getMessage() and "did not cosign" in r.getMessage() for r in caplog.records)
    a.lodge(2)
    audit_burst(a, 5)
    wait_for(lambda: cosigned(a, b), "B to cosign A again")
    assert len(_submit_failures(a)) == 1  # reported when C started failing, not at every batch

    # B goes down too: A lodges on, and B cosigns again at A's first integration after its return.
    b.stop()
    b.join()
    a.lodge(2)
    result = a.services.declarations.lodge({**doc, "lrn": "A-WIT-RECEIPT-2"}, SEED, receipt=True)
    assert result.receipt is not None
    wait_for(lambda: len(_submit_failures(a)) == 2, "the failed submission to B to be audited")
    assert {e.record_id for e in _submit_failures(a)} == {c_witness.name, b.witness.signer.name}
    b.restart()
    a.lodge(1)
    wait_for(lambda: cosigned(a, b), "B, back, to cosign A's latest checkpoint")

    submitted = a.cli("ledger", "witness", "submit")
    assert submitted.returncode == 1
    by_name = {r["witness"]: r for r in json.loads(submitted.stdout)}
    assert by_name[b.witness.signer.name]["ok"] and not by_name[c_witness.name]["ok"]

    target = tmp_path / "published"
    published = a.cli("ledger", "publish", str(target))
    assert published.returncode == 0, published.stderr
    assert c_witness.name in published.stderr
    opened = open_checkpoint((target / "checkpoint").read_text(), [cosignature_verifier(b.witness.vkey())])
    assert [s.name for s in opened.note.verified] == [b.witness.signer.name]
    assert verify_tiles_dir(target, a.services.ledger.vkey(), origin=a.origin).size == opened.checkpoint.size

    # A partner whose server certificate no trusted CA issued is not talked to.
    own_only = tmp_path / "own-ca.pem"
    own_only.write_bytes(TlsFiles.under(b.settings.keys_dir).ca_cert.read_bytes())
    wary = WitnessService(b.witness.signer, ledger=b.services.ledger)
    wary.partner_ca = own_only
    with wary.client() as client:
        untrusted = wary.mirrors(tmp_path / "wary").mirror(b.factory, client, a.origin)
    assert not untrusted.ok and "CERTIFICATE_VERIFY_FAILED" in untrusted.detail, untrusted.detail

    # A bad partner URL: one line naming the field, exit 2, nothing written.
    bad = a.cli(
        "ledger", "witness", "add-partner", "d", "--origin", "d.example/ledger", "--log-key",
        Ed25519Signer("d.example/ledger", Ed25519PrivateKey.generate()).vkey(), "--witness-key",
        CosignatureSigner("d.example/witness", Ed25519PrivateKey.generate()).vkey(), "--url", "ftp://d.example",
    )  # fmt: skip
    assert bad.returncode == 2 and "url" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    with a.factory() as session:
        assert session.get(MirrorRow, "d.example/ledger") is None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _mirrored(factory: sessionmaker[Session], origin: str) -> int:
    with factory() as session:
        row = session.get(MirrorRow, origin)
        return 0 if row is None else int(row.size)


def _submit_failures(a: Instance) -> list[AuditEvent]:
    with a.factory() as session:
        return a.services.audit.query(session, AuditQuery(action="ledger.witness.submit"))
