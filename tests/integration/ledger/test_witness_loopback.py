"""Two ClearGuard instances on loopback: one log, one witness. The witness cosigns the log's growth,
and catches a fork (a second history signed with the same log key)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from clearguard import db
from clearguard.ledger import cosignature_verifier, open_note
from clearguard.ledger.cosignature import CosignatureSigner
from clearguard.ledger.note import Ed25519Signer
from clearguard.ledger.routes import router
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tables import WitnessedLog, WitnessPeer
from clearguard.ledger.witness_service import WitnessService, add_peer, submit
from clearguard.tables import metadata


def _factory(path: Path) -> sessionmaker[Session]:
    engine = db.make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return db.make_session_factory(engine)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def witness_instance(tmp_path: Path) -> Iterator[tuple[str, WitnessService, sessionmaker[Session]]]:
    factory = _factory(tmp_path / "witness.db")
    witness = WitnessService(CosignatureSigner("witness.partner.example", Ed25519PrivateKey.generate()))
    app = FastAPI()
    app.state.witness = witness
    app.state.ledger = LedgerService(
        Ed25519Signer("partner.example/ledger", Ed25519PrivateKey.generate()), entry_check=None
    )
    app.state.session_factory = factory
    app.include_router(router)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("witness server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/ledger/witness", witness, factory
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _grow(factory: sessionmaker[Session], ledger: LedgerService, entries: list[bytes]) -> None:
    with factory() as session, session.begin():
        ledger.append_many(session, entries)
        ledger.integrate(session)


def test_witness_cosigns_growth_and_catches_fork(
    tmp_path: Path, witness_instance: tuple[str, WitnessService, sessionmaker[Session]]
) -> None:
    url, witness, witness_factory = witness_instance
    key = Ed25519PrivateKey.generate()
    log = LedgerService(Ed25519Signer("customs.example/ledger", key), entry_check=None)
    log_factory = _factory(tmp_path / "log.db")
    with witness_factory() as session, session.begin():
        witness.add_log(session, log.origin, log.vkey(), "http://127.0.0.1/log")
    with log_factory() as session, session.begin():
        add_peer(session, witness.vkey(), url)

    with httpx.Client(timeout=10) as client:
        _grow(log_factory, log, [f"a{i}".encode() for i in range(10)])
        with log_factory() as session, session.begin():
            (result,) = submit(log, session, client)
        assert result.ok, result.detail
        _grow(log_factory, log, [f"b{i}".encode() for i in range(300)])
        with log_factory() as session, session.begin():
            (result,) = submit(log, session, client)
            assert result.ok, result.detail
            note = log.latest_note(session)
        assert note is not None
        opened = open_note(note, [cosignature_verifier(witness.vkey())])
        assert opened.verified[0].name == "witness.partner.example"

        # The fork: the same log key signs a second history that rewrote entry 3.
        fork_factory = _factory(tmp_path / "fork.db")
        forked = LedgerService(Ed25519Signer("customs.example/ledger", key), entry_check=None)
        _grow(fork_factory, forked, [f"a{i}".encode() if i != 3 else b"rewritten" for i in range(10)])
        _grow(fork_factory, forked, [f"b{i}".encode() for i in range(400)])
        with fork_factory() as session, session.begin():
            session.add(WitnessPeer(name="witness.partner.example", vkey=witness.vkey(), url=url, size=310))
            (refused,) = submit(forked, session, client)
        assert not refused.ok
        assert refused.detail.startswith("422"), refused.detail

        # Same size as the witnessed tree, another root: refused as a conflict.
        same_factory = _factory(tmp_path / "same.db")
        same = LedgerService(Ed25519Signer("customs.example/ledger", key), entry_check=None)
        _grow(same_factory, same, [f"a{i}".encode() if i != 3 else b"rewritten" for i in range(10)])
        _grow(same_factory, same, [f"b{i}".encode() for i in range(300)])
        with same_factory() as session, session.begin():
            session.add(WitnessPeer(name="witness.partner.example", vkey=witness.vkey(), url=url, size=310))
            (conflict,) = submit(same, session, client)
        assert conflict.detail.startswith("409"), conflict.detail

        # A stale old size gets 409 with the witness's size, and the honest log recovers from it.
        _grow(log_factory, log, [b"c"])
        with log_factory() as session, session.begin():
            peer = session.get(WitnessPeer, "witness.partner.example")
            assert peer is not None
            peer.size = 10
            (recovered,) = submit(log, session, client)
        assert recovered.ok, recovered.detail

        # Unknown log and bad signature.
        stranger = LedgerService(Ed25519Signer("stranger.example/log", Ed25519PrivateKey.generate()), entry_check=None)
        stranger_factory = _factory(tmp_path / "stranger.db")
        _grow(stranger_factory, stranger, [b"x"])
        with stranger_factory() as session:
            body = b"old 0\n\n" + (stranger.latest_note(session) or "").encode()
        assert client.post(url + "/add-checkpoint", content=body).status_code == 404
        impostor = LedgerService(
            Ed25519Signer("customs.example/ledger", Ed25519PrivateKey.generate()), entry_check=None
        )
        impostor_factory = _factory(tmp_path / "impostor.db")
        _grow(impostor_factory, impostor, [b"x"] * 400)
        with impostor_factory() as session:
            body = b"old 311\n\n" + (impostor.latest_note(session) or "").encode()
        assert client.post(url + "/add-checkpoint", content=body).status_code == 403
        stale = client.post(
            url + "/add-checkpoint",
            content=b"old 5\n\n"
            + note.split("\n\n")[0].encode()
            + b"\n\n"
            + note.split("\n\n")[1].split("\n")[0].encode()
            + b"\n",
        )
        assert stale.status_code == 409
        assert stale.headers["content-type"].startswith("text/x.tlog.size")
        assert stale.text == "311\n"


def test_racing_add_checkpoints_never_roll_back(session_factory: sessionmaker[Session]) -> None:
    """Two requests from the same old size: exactly one is cosigned, the other gets 409 with the
    new size; the stored size never goes back (the spec's race, on both databases)."""
    from clearguard.ledger import Checkpoint, MemoryTree
    from clearguard.ledger.witness import WitnessError, request_body

    witness = WitnessService(CosignatureSigner("w.example", Ed25519PrivateKey.generate()))
    log = Ed25519Signer("race.example/log", Ed25519PrivateKey.generate())
    with session_factory() as session, session.begin():
        witness.add_log(session, log.name, log.vkey(), "http://log")
    tree = MemoryTree()
    for i in range(50):
        tree.append_entry(b"%d" % i)
    with session_factory() as session, session.begin():
        witness.add_checkpoint(session, request_body(0, [], Checkpoint(log.name, 10, tree.root(10)).sign(log)))
    bodies = [
        request_body(10, tree.consistency_proof(10, size), Checkpoint(log.name, size, tree.root(size)).sign(log))
        for size in (30, 50)
    ]
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def send(body: bytes) -> None:
        barrier.wait()
        try:
            with session_factory() as session, session.begin():
                witness.add_checkpoint(session, body)
            outcomes.append(200)
        except WitnessError as exc:
            outcomes.append(exc.http_status)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [200, 409]  # type: ignore[type-var]
    with session_factory() as session:
        row = session.get(WitnessedLog, log.name)
        assert row is not None and row.size in (30, 50)
