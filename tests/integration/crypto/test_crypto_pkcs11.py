"""PKCS#11 provider against SoftHSM2: KEKs stay on the token, clear errors when the HSM is unreachable."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clearguard.config import Settings
from clearguard.crypto import (
    DecryptionFailed,
    HsmUnavailable,
    KeyUnavailable,
    build_crypto_service,
    envelope,
    init_keys,
)
from clearguard.crypto.fields import ERASED, FieldRef
from clearguard.crypto.providers import Pkcs11KeyProvider
from clearguard.db import transaction


def provider(token: Any, **kw: str) -> Pkcs11KeyProvider:
    return Pkcs11KeyProvider(
        kw.get("module", token.module),
        kw.get("label", token.label),
        kw.get("pin", token.pin),
        label_prefix=f"cg-{uuid.uuid4().hex[:10]}",
    )


def test_kek_is_generated_on_token_non_extractable(softhsm: Any) -> None:
    from pkcs11 import Attribute

    p = provider(softhsm)
    try:
        assert p.create_kek(1) is True
        assert p.create_kek(1) is False
        kek = p._key(1)
        assert kek[Attribute.EXTRACTABLE] is False
        assert kek[Attribute.SENSITIVE] is True
        assert kek[Attribute.TOKEN] is True
        data_key = envelope.new_key()
        wrapped = p.wrap(1, data_key, b"aad")
        assert data_key not in wrapped
        assert p.unwrap(1, wrapped, b"aad") == data_key
        with pytest.raises(DecryptionFailed):
            p.unwrap(1, wrapped, b"other aad")
        tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
        with pytest.raises(DecryptionFailed):
            p.unwrap(1, tampered, b"aad")
        with pytest.raises(KeyUnavailable, match="is not on the PKCS#11 token"):
            p.wrap(7, data_key, b"")
    finally:
        p.close()


def test_wrong_pin_is_clear(softhsm: Any) -> None:
    with pytest.raises(HsmUnavailable, match=r"login to token .* failed: wrong PIN"):
        provider(softhsm, pin="0000")


def test_missing_module_is_clear(softhsm: Any) -> None:
    with pytest.raises(HsmUnavailable, match=r"PKCS#11 module /nonexistent/libhsm\.so does not exist"):
        provider(softhsm, module="/nonexistent/libhsm.so")


def test_unknown_token_is_clear(softhsm: Any) -> None:
    with pytest.raises(HsmUnavailable, match="token 'no-such-token' not found"):
        provider(softhsm, label="no-such-token")


def test_service_refuses_start_with_wrong_pin(hsm_settings: Settings) -> None:
    bad = hsm_settings.model_copy(update={"crypto_pkcs11_pin": SecretStr("9999")})
    with pytest.raises(HsmUnavailable, match="wrong PIN"):
        build_crypto_service(bad)


def test_service_on_hsm_seals_rotates_shreds(
    hsm_settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    ref = FieldRef("declarations", "26GB0000000000001", "exporter.address", 1)
    vault = build_crypto_service(hsm_settings)
    try:
        assert not list(hsm_settings.keys_dir.glob("kek-*")), "no KEK may be written to disk"
        with transaction(session_factory) as session:
            gb = vault.key_for_party(session, "eori:GB123456789000")
            fr = vault.key_for_party(session, "eori:FR123456789000")
            gb_blob = vault.seal(session, gb, ref, "1 High Street, Dover")
            fr_blob = vault.seal(session, fr, ref, "2 Rue de la Paix, Calais")
        result = vault.rotate(session_factory)
        assert (result.version, result.rewrapped) == (2, 2)
        with transaction(session_factory) as session:
            vault.shred(session, "eori:FR123456789000")
        cold = build_crypto_service(hsm_settings)
        try:
            with transaction(session_factory) as session:
                assert cold.open(session, gb, ref, gb_blob) == "1 High Street, Dover"
                assert cold.open(session, fr, ref, fr_blob) is ERASED
                assert cold.status(session).current_version == 2
        finally:
            cold.close()
    finally:
        vault.close()


def test_init_keys_on_hsm_is_idempotent(hsm_settings: Settings) -> None:
    assert init_keys(hsm_settings) == []


def test_wrong_pin_refused_while_token_already_logged_in(softhsm: Any) -> None:
    good = provider(softhsm)
    try:
        with pytest.raises(HsmUnavailable, match="wrong PIN"):
            provider(softhsm, pin="0000")
        second = provider(softhsm)  # same process, right PIN: shares the login
        second.create_kek(1)
        assert second.unwrap(1, second.wrap(1, b"k" * 32, b""), b"") == b"k" * 32
        second.close()
        good.create_kek(1)
    finally:
        good.close()
