"""Compact JWS signed with the instance's Ed25519 key (RFC 7515, alg "Ed25519" of RFC 9864): the one
format for identity documents, agreements and countersignatures. Pure: no I/O."""

from __future__ import annotations

import json
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from clearguard.sharing.errors import SharingInputError
from clearguard.sharing.keys import SIGNING_ALG


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(payload: dict[str, Any], key: OKPKey, *, typ: str) -> str:
    header = {"alg": SIGNING_ALG, "kid": key.thumbprint(), "typ": typ}
    return str(jws.serialize_compact(header, canonical(payload), key, algorithms=[SIGNING_ALG]))


def unverified(text: str, *, what: str, typ: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS, before its signature is checked: only to find the key
    that must have signed it. SharingInputError naming `what` when it is not one."""
    try:
        obj = jws.extract_compact(text.strip().encode("ascii"))
        payload = json.loads(obj.payload)
    except (JoseError, ValueError, UnicodeError, TypeError, RecursionError) as exc:
        raise SharingInputError(
            f"{what}: not a signed document (compact JWS): {type(exc).__name__}", field=what
        ) from None
    header = dict(obj.protected)
    if header.get("typ") != typ or header.get("alg") != SIGNING_ALG:
        raise SharingInputError(f"{what}: not a {typ} signed with {SIGNING_ALG}", field=what)
    if not isinstance(payload, dict):
        raise SharingInputError(f"{what}: the payload is not a JSON object", field=what)
    return header, payload


def verify(text: str, key: OKPKey, *, what: str, typ: str) -> dict[str, Any]:
    """The payload of a compact JWS that `key` signed; SharingInputError otherwise."""
    header, _ = unverified(text, what=what, typ=typ)
    if header.get("kid") != key.thumbprint():
        raise SharingInputError(f"{what}: signed by key {header.get('kid')!r}, not {key.thumbprint()!r}", field=what)
    try:
        obj = jws.deserialize_compact(text.strip().encode("ascii"), key, algorithms=[SIGNING_ALG])
    except (JoseError, ValueError) as exc:
        raise SharingInputError(f"{what}: the signature does not verify ({type(exc).__name__})", field=what) from None
    payload: dict[str, Any] = json.loads(obj.payload)
    return payload


def public_key(jwk: Any, *, curve: str, what: str) -> OKPKey:
    """A public OKP key of `curve` from its JWK; refuses private members and other key types."""
    if not isinstance(jwk, dict) or set(jwk) - {"kty", "crv", "x", "kid", "use", "alg"}:
        raise SharingInputError(f"{what}: not a public JWK", field=what)
    try:
        key = OKPKey.import_key(jwk)
    except (JoseError, ValueError, TypeError) as exc:
        raise SharingInputError(f"{what}: not a valid JWK ({type(exc).__name__})", field=what) from None
    if key.is_private or jwk.get("crv") != curve:
        raise SharingInputError(f"{what}: must be a public {curve} key", field=what)
    return key
