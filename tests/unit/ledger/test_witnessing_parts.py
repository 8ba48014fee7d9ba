"""The pure parts of witnessing both ways and mirroring: which refusals are forks (with their
evidence), alert fingerprints, partner URLs, mirror folder names, the right edge a mirror replaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearguard.ledger import Checkpoint, Ed25519Signer, MemoryTree
from clearguard.ledger.alerts import FORK_REFUSED, AlertEvidence
from clearguard.ledger.errors import WitnessInputError
from clearguard.ledger.mirror import _edge_paths, mirror_dir
from clearguard.ledger.witness import ForkDetected, LogState, WitnessError, decide, parse_add_checkpoint, request_body
from clearguard.ledger.witness_service import partner_base_url

ORIGIN = "partner.example/ledger"
LOG = Ed25519Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"\x07" * 32))


def _tree(n: int, rewrite: int | None = None) -> MemoryTree:
    tree = MemoryTree()
    for i in range(n):
        tree.append_entry(b"second history" if i == rewrite else b"e%d" % i)
    return tree


def _state(tree: MemoryTree, size: int) -> LogState:
    return LogState(ORIGIN, (LOG.verifier(),), size, tree.root(size))


def _request(tree: MemoryTree, old: int, size: int) -> bytes:
    proof = tree.consistency_proof(old, size) if 0 < old < size else []
    return request_body(old, proof, Checkpoint(ORIGIN, size, tree.root(size)).sign(LOG))


def test_a_second_history_is_a_fork_with_its_evidence() -> None:
    honest, forked = _tree(40), _tree(40, rewrite=3)
    state = _state(honest, 10)
    with pytest.raises(ForkDetected) as larger:
        decide(parse_add_checkpoint(_request(forked, 10, 40)), state)
    assert larger.value.http_status == 422
    assert larger.value.checkpoint == Checkpoint(ORIGIN, 40, forked.root(40))
    assert larger.value.state is state and larger.value.note.startswith(ORIGIN + "\n40\n")

    with pytest.raises(ForkDetected) as same:
        decide(parse_add_checkpoint(_request(forked, 10, 10)), state)
    assert same.value.http_status == 409 and same.value.latest_size == 10
    assert same.value.checkpoint.root != state.root


def test_refusals_that_prove_nothing_are_not_forks() -> None:
    honest = _tree(40)
    for body, status in [
        (_request(honest, 5, 40), 409),  # a stale old size: the log catches up, nobody forked
        (request_body(10, [], Checkpoint(ORIGIN, 40, honest.root(40)).sign(LOG)), 422),  # no proof at all
    ]:
        with pytest.raises(WitnessError) as refused:
            decide(parse_add_checkpoint(body), _state(honest, 10))
        assert refused.value.http_status == status
        assert isinstance(refused.value, ForkDetected) == (status == 422)
    impostor = Ed25519Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"\x08" * 32))
    forged = request_body(0, [], Checkpoint(ORIGIN, 40, _tree(40, 1).root(40)).sign(impostor))
    with pytest.raises(WitnessError) as unsigned:
        decide(parse_add_checkpoint(forged), LogState(ORIGIN, (LOG.verifier(),), 0, None))
    assert unsigned.value.http_status == 403 and not isinstance(unsigned.value, ForkDetected)


def test_alert_fingerprints_tell_histories_apart() -> None:
    honest, one, two = _tree(20), _tree(20, rewrite=1), _tree(20, rewrite=2)

    def evidence(tree: MemoryTree, detail: str = "d") -> AlertEvidence:
        seen = Checkpoint(ORIGIN, 20, tree.root(20))
        return AlertEvidence(ORIGIN, FORK_REFUSED, detail, 20, honest.root(20), None, seen, seen.sign(LOG))

    assert evidence(one).fingerprint() == evidence(one, "said again").fingerprint()
    assert evidence(one).fingerprint() != evidence(two).fingerprint()


@pytest.mark.parametrize(
    "url",
    ["ftp://partner.example", "https://", "https://user:pw@partner.example", "https://p.example/?a=1",
     "https://p.example/#x", "partner.example", "https://p.example:99999"],
)  # fmt: skip
def test_partner_urls_are_checked(url: str) -> None:
    with pytest.raises(WitnessInputError) as refused:
        partner_base_url(url)
    assert refused.value.exit_code == 2 and str(refused.value).startswith("url:")


def test_partner_urls_lose_their_trailing_slash() -> None:
    assert partner_base_url("https://customs.partner.example/") == "https://customs.partner.example"
    assert partner_base_url("http://127.0.0.1:8443/api/") == "http://127.0.0.1:8443/api"


@pytest.mark.parametrize(
    "origin", ["..", ".", "../../etc", "/abs/path", "a/b", "x\\y", "é.example/log", "ü/" * 120, "a" * 255]
)
def test_a_mirror_folder_is_one_component_under_the_root(origin: str, tmp_path: Path) -> None:
    folder = mirror_dir(tmp_path, origin)
    assert folder.parent == tmp_path
    assert folder.name not in ("", ".", "..") and "/" not in folder.name and "\\" not in folder.name
    assert folder.resolve().parent == tmp_path.resolve()
    assert len(folder.name.encode()) <= 255
    folder.mkdir()


def test_the_right_edge_a_mirror_replaces() -> None:
    assert _edge_paths(0) == []
    assert _edge_paths(256) == ["tile/1/000.p/1"]
    assert _edge_paths(300) == ["tile/entries/001.p/44", "tile/0/001.p/44", "tile/1/000.p/1"]


def test_long_origins_keep_distinct_folders(tmp_path: Path) -> None:
    assert mirror_dir(tmp_path, "ü/" * 120) != mirror_dir(tmp_path, "ü/" * 119 + "x/")
