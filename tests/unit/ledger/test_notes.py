"""Signed notes, verifier keys, checkpoints and cosignatures."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearguard.ledger import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    NoteError,
    cosignature_verifier,
    ed25519_verifier,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
)
from clearguard.ledger.note import ALG_COSIGNATURE_ED25519, format_verifier_key, key_id

SEED = bytes(range(32))


def _signer(name: str = "log.example/a", seed: bytes = SEED) -> Ed25519Signer:
    return Ed25519Signer(name, Ed25519PrivateKey.from_private_bytes(seed))


def test_sign_and_open_roundtrip() -> None:
    signer = _signer()
    note = sign_note("hello\n\nworld\n", [signer])
    opened = open_note(note, [signer.verifier()])
    assert opened.text == "hello\n\nworld\n"  # the text may hold blank lines; the last one splits


def test_unknown_signatures_are_ignored_but_one_known_is_required() -> None:
    a, b = _signer("a.example"), _signer("b.example", bytes(32))
    note = sign_note("text\n", [a, b])
    opened = open_note(note, [a.verifier()])
    assert [s.name for s in opened.verified] == ["a.example"]
    assert [s.name for s in opened.unverified] == ["b.example"]
    with pytest.raises(NoteError, match="no signature by a trusted key"):
        open_note(sign_note("text\n", [b]), [a.verifier()])


def test_same_name_other_key_is_unknown_not_fatal() -> None:
    a, impostor = _signer("a.example"), _signer("a.example", bytes(32))
    note = sign_note("text\n", [impostor, a])
    assert len(open_note(note, [a.verifier()]).unverified) == 1


@pytest.mark.asvs("V11.6.1")
def test_bad_signature_by_known_key_rejects_note() -> None:
    a = _signer()
    note = sign_note("text\n", [a])
    line = note.split("\n")[2]
    raw = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    raw[10] ^= 1
    bad = note.replace(line.rsplit(" ", 1)[1], base64.b64encode(bytes(raw)).decode())
    with pytest.raises(NoteError, match="does not verify"):
        open_note(bad, [a.verifier()])


@pytest.mark.parametrize(
    "note",
    [
        "text\n",  # no signatures
        "text\n\n",  # empty signature block
        "text\n\n\u2014 a.example AAAA\n",  # signature too short
        "text\n\n- a.example AAAAAAAAAAAA\n",  # not an em dash
        "text\n\n\u2014 a.example !!!!\n",  # not base64
        "te\txt\n\n\u2014 a.example AAAAAAAAAAAA\n",  # control character
        "text\n\n\u2014 a.example AAAAAAAAAAAA",  # no final newline
    ],
)
def test_malformed_notes_refused(note: str) -> None:
    with pytest.raises(NoteError):
        open_note(note, [_signer("a.example").verifier()])


def test_text_rules_when_signing() -> None:
    with pytest.raises(NoteError):
        sign_note("no newline", [_signer()])
    with pytest.raises(NoteError):
        sign_note("bell\a\n", [_signer()])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b"])
def test_key_names_refused(name: str) -> None:
    with pytest.raises(NoteError):
        _signer(name)


def test_verifier_key_with_plus_in_base64() -> None:
    # Find a key whose base64 holds '+', to prove we split on the first two '+' only.
    for i in range(200):
        signer = _signer("plus.example", bytes([i]) * 32)
        if "+" in signer.vkey().split("+", 2)[2]:
            break
    else:
        pytest.fail("no key with '+' in its base64 in 200 tries")
    parsed = parse_verifier_key(signer.vkey())
    assert parsed.public_key == signer.public_key
    assert ed25519_verifier(signer.vkey()).vkey() == signer.vkey()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: v.replace("+", "-", 1),
        lambda v: v.split("+", 1)[0],
        lambda v: v[: v.index("+") + 1] + "00000000" + v[v.index("+") + 9 :],
        lambda v: v[: v.index("+") + 1] + v[v.index("+") + 1 : v.index("+") + 9].upper() + v[v.index("+") + 9 :],
        lambda v: v[:-4] + "AAA=",
    ],
)
def test_verifier_key_refusals(mutate: object) -> None:
    vkey = _signer().vkey()
    assert callable(mutate)
    bad = mutate(vkey)
    if bad == vkey:
        pytest.skip("mutation left the key unchanged")
    with pytest.raises(NoteError):
        parse_verifier_key(bad)


def test_checkpoint_body_and_signature() -> None:
    signer = _signer("log.example/a")
    cp = Checkpoint("log.example/a", 5, bytes(32))
    assert cp.body() == "log.example/a\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    signed = open_checkpoint(cp.sign(signer), [signer.verifier()], "log.example/a")
    assert signed.checkpoint == cp
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(cp.sign(signer), [signer.verifier()], "other.example")


@pytest.mark.parametrize(
    "body",
    [
        "o\n05\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n5\nAAAA\n",
        "\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n5\n",
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
)
def test_malformed_checkpoints(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)


def test_checkpoint_extensions_are_parsed_and_kept() -> None:
    cp = parse_checkpoint("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\n")
    assert cp.extensions == ("ext one",)
    assert cp.body().endswith("ext one\n")


def test_cosignature_roundtrip_and_format() -> None:
    witness = CosignatureSigner("witness.example/w1", Ed25519PrivateKey.from_private_bytes(SEED))
    log = _signer("log.example/a")
    cp = Checkpoint("log.example/a", 7, bytes(range(32)))
    sig = witness.cosign(cp.body(), 1679315147)
    assert len(sig.signature) == 72 and sig.signature[:8] == (1679315147).to_bytes(8, "big")
    assert sig.key_id == key_id("witness.example/w1", ALG_COSIGNATURE_ED25519, witness.verifier().public_key)
    note = cp.sign(log) + sig.line()
    verifier = cosignature_verifier(witness.vkey())
    opened = open_note(note, [verifier])
    assert opened.verified[0].name == "witness.example/w1"
    # The same key used as a plain note signer has another key id, so it cannot stand in.
    assert witness.key_id != Ed25519Signer("witness.example/w1", Ed25519PrivateKey.from_private_bytes(SEED)).key_id
    # A cosignature replayed over another checkpoint fails.
    other = Checkpoint("log.example/a", 8, bytes(range(32)))
    with pytest.raises(NoteError):
        open_note(other.sign(log) + sig.line(), [verifier])
    with pytest.raises(NoteError):
        ed25519_verifier(witness.vkey())
    assert format_verifier_key(verifier.name, ALG_COSIGNATURE_ED25519, verifier.public_key) == witness.vkey()
