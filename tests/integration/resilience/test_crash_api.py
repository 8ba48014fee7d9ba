"""Issue 18, deliverable 1: `clearguard serve` killed with SIGKILL while several clients lodge at
once, then restarted. Every acknowledged declaration (a 201) is there with its ledger entry (signed
after the restart) and its audit event; nothing is half-written; replaying the same LRNs stores
nothing and answers with the same MRNs; `clearguard ledger verify` passes. SQLite and PostgreSQL.

The kill lands at a random moment after the round's first acknowledgement (seeded: the seed is
printed, CLEARGUARD_CRASH_SEED replays it); CLEARGUARD_SOAK_KILLS rounds (3 here, 20 in `make soak`).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app as cli
from tests.helpers import example
from tests.resilience import (
    Instance,
    Server,
    counts,
    half_written,
    init_instance,
    kills,
    seed,
    sign_in,
    start_server,
    stored,
    verified_size,
    wait_integrated,
)

THREADS = 4
# Who lodges: the GB trader for itself, the broker under its mandate from that trader, the NL trader.
LODGERS = {"demo-trader": "h1-import.json", "demo-broker": "h1-import.json", "demo-trader-nl": "h7-low-value.json"}


@dataclass
class Round:
    """What the clients of one round sent and what they were told."""

    number: int
    docs: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # LRN -> (lodger, document)
    acked: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # LRN -> (MRN, ledger index), 201s
    in_flight: set[str] = field(default_factory=set)  # sent, no answer: the kill came first
    refused: dict[str, str] = field(default_factory=dict)  # LRN -> an answer other than 201
    first_ack: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def document(lodger: str, lrn: str) -> dict[str, Any]:
    doc = copy.deepcopy(example(LODGERS[lodger]))
    doc["lrn"] = lrn
    return doc


def lodge(client: httpx.Client, token: str, doc: dict[str, Any], *, receipt: bool) -> httpx.Response:
    return client.post(
        "/api/v1/declarations",
        params={"receipt": "true"} if receipt else None,
        json=doc,
        headers={"Authorization": f"Bearer {token}"},
    )


def client_loop(server: Server, tokens: dict[str, str], state: Round, worker: int, stop: threading.Event) -> None:
    """One client: lodges fresh LRNs until the server goes away. Every third asks for its receipt at
    once (integration and signing on the request path), the others go through the group commit."""
    lodger = list(LODGERS)[worker % len(LODGERS)]
    with server.client() as client:
        n = 0
        while not stop.is_set():
            n += 1
            lrn = f"K{state.number:02d}W{worker}N{n:05d}"
            doc = document(lodger, lrn)
            with state.lock:
                state.docs[lrn] = (lodger, doc)
            try:
                r = lodge(client, tokens[lodger], doc, receipt=n % 3 == 0)
            except httpx.TransportError:
                with state.lock:
                    state.in_flight.add(lrn)
                return
            with state.lock:
                if r.status_code == 201:
                    body = r.json()
                    state.acked[lrn] = (body["mrn"], body["ledger_index"])
                    state.first_ack.set()
                else:
                    state.refused[lrn] = f"{r.status_code} {r.text[:300]}"


def verify_receipts(server: Server, asked: list[tuple[str, str]]) -> None:
    """The restarted server serves each (MRN, lodger's token)'s receipt, and the receipt verifies."""
    with server.client() as client:
        for mrn, token in asked:
            r = client.get(f"/api/v1/declarations/{mrn}/receipt", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, (mrn, r.status_code, r.text)
            checked = client.post("/ledger/receipts/verify", json=r.json())
            assert checked.status_code == 200, (mrn, checked.text)


def replay(server: Server, tokens: dict[str, str], state: Round) -> dict[str, tuple[int, str]]:
    """Sends every LRN of the round again: LRN -> (status, MRN)."""
    answers: dict[str, tuple[int, str]] = {}
    with server.client() as client:
        for lrn, (lodger, doc) in sorted(state.docs.items()):
            if lrn in state.refused:
                continue
            r = lodge(client, tokens[lodger], doc, receipt=False)
            assert r.status_code in (200, 201), (lrn, r.status_code, r.text)
            answers[lrn] = (r.status_code, r.json()["mrn"])
    return answers


def kill_round(instance: Instance, server: Server, tokens: dict[str, str], number: int, rng: random.Random) -> Server:
    state = Round(number)
    stop = threading.Event()
    workers = [
        threading.Thread(target=client_loop, args=(server, tokens, state, w, stop), daemon=True) for w in range(THREADS)
    ]
    for worker in workers:
        worker.start()
    assert state.first_ack.wait(120), (
        f"no lodging acknowledged before the kill; refused: {list(state.refused.values())[:3]}"
    )
    delay = rng.uniform(0.0, 1.5)
    time.sleep(delay)
    server.kill()
    stop.set()
    for worker in workers:
        worker.join(60)
    print(f"round {number}: killed {delay:.3f}s after the first 201: {len(state.acked)} acknowledged, "
          f"{len(state.in_flight)} in flight")  # fmt: skip
    assert not state.refused, f"answers other than 201 before the kill: {list(state.refused.items())[:3]}"

    server = start_server(instance)
    try:
        engine = instance.engine
        # Nothing half-written, before the restarted server has done anything but start.
        assert half_written(engine) == []
        found = stored(engine, sorted(state.docs))
        lost = {lrn: mrn for lrn, (mrn, _i) in state.acked.items() if found.get(lrn) != mrn}
        assert not lost, f"acknowledged and then lost (or another MRN): {list(lost.items())[:5]}"
        assert set(found) <= set(state.acked) | state.in_flight  # nothing stored that nobody sent
        # The restarted server signs what the killed one had sequenced but not yet signed.
        size = wait_integrated(engine)
        indexes = [index for _mrn, index in state.acked.values() if index is not None]
        assert len(indexes) == len(state.acked) and max(indexes) < size
        sample = rng.sample(sorted(state.acked), min(5, len(state.acked)))
        verify_receipts(server, [(state.acked[lrn][0], tokens[state.docs[lrn][0]]) for lrn in sample])

        before = counts(engine)
        answers = replay(server, tokens, state)
        for lrn, (mrn, _index) in state.acked.items():
            assert answers[lrn] == (200, mrn), (lrn, answers[lrn], mrn)
        for lrn in state.in_flight:
            status, mrn = answers[lrn]
            # Stored before the kill (its answer lost): the same MRN now; not stored: lodged now.
            assert (status, mrn) == (200, found[lrn]) if lrn in found else status == 201, (lrn, status, found.get(lrn))
        fresh = sum(1 for lrn in state.in_flight if lrn not in found)
        after = counts(engine)
        assert after["declarations"] == before["declarations"] + fresh, (before, after)
        assert after["declaration_versions"] == before["declaration_versions"] + fresh
        assert half_written(engine) == []
        # The operator's check after the crash, in process (the final one runs `clearguard` itself).
        verified = CliRunner().invoke(cli, ["ledger", "verify"], env=instance.env)
        assert verified.exit_code == 0 and verified_size(verified.stdout) >= size, verified.output
    except BaseException:
        server.stop()  # the caller only knows the killed server: never leave the new one running
        raise
    return server


def test_acknowledged_lodgings_survive_sigkill(empty_database: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = empty_database
    run_seed = seed()
    print(f"crash seed {run_seed} (CLEARGUARD_CRASH_SEED={run_seed} replays it), {kills()} kills")
    rng = random.Random(run_seed)
    instance = init_instance(url, engine, tmp_path / "instance")
    server = start_server(instance)
    try:
        tokens = {name: sign_in(server, instance.accounts[name]) for name in LODGERS}
        for number in range(kills()):
            server = kill_round(instance, server, tokens, number, rng)
    finally:
        server.stop()
    assert half_written(engine) == []
    verified = instance.cli("ledger", "verify").stdout
    assert verified_size(verified) == counts(engine)["ledger_entries"], verified  # every entry checked
