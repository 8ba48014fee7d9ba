"""Selective Disclosure for JWTs, RFC 9901 (pure core: no database, no HTTP).

The issuer turns a claims object into an Issuer-signed JWT whose selectively disclosable claims are
replaced by SHA-256 digests of Disclosures (base64url of the JSON array [salt, name, value], or
[salt, value] for an array element); `_sd` arrays carry the digests of an object's claims and
`{"...": digest}` stands in for an array element. Every claim at every depth is disclosable, except
the top-level `always_visible` ones, so nested objects and arrays give recursive disclosures. The
holder presents `<jwt>~<d1>~...~<dn>~` with the Disclosures it chooses.

A claim path is the tuple of names and array positions from the top of the claims object, for
example ("items", 0, "commodity_code"). An array position is the element's position in the issued
array (decoy digests are appended after the real elements), so the issuer and the verifier name
the same claim by the same path even when earlier elements are withheld.

Key binding (SD-JWT+KB) is not used here: a presentation that carries a KB-JWT is refused rather than
accepted with its binding unchecked.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from clearguard.sharing.errors import SdJwtError, SharingInputError
from clearguard.sharing.jose_util import b64url_decode, b64url_encode, loads_strict

ClaimPath = tuple[str | int, ...]
SigningKey = OKPKey | ECKey
KeyResolver = Callable[[str | None], OKPKey | ECKey | None]

SD_ALG: Final = "sha-256"
TYP: Final = "dc+sd-jwt"
DEFAULT_ALWAYS_VISIBLE: Final = ("iss", "iat", "exp", "nbf", "sub", "cnf", "vct", "jti")
RESERVED_NAMES: Final = frozenset({"_sd", "...", "_sd_alg"})
SALT_BYTES: Final = 16  # 128 bits (RFC 9901 section 9.3)
MAX_SERIALISED: Final = 4 * 1024 * 1024
# Validity claims are checked with this much tolerance for clock skew between administrations.
SKEW_SECONDS: Final = 300


# The RFC's examples are Python's default separators with UTF-8 left as is; matching them lets the
# tests reproduce the RFC's Disclosures byte for byte. NaN is not JSON. One encoder for every call:
# json.dumps builds a new one whenever an option differs from its defaults.
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _digest(encoded: str) -> str:
    """Base64url SHA-256 over the ASCII of the Disclosure string itself (RFC 9901 section 4.2.3)."""
    return b64url_encode(hashlib.sha256(encoded.encode("ascii")).digest())


@dataclass(frozen=True)
class Disclosure:
    """One Disclosure. `name` is None for an array element. `value` is the value as disclosed: for a
    nested object or array it holds the digests of its own disclosable parts. `path` is the claim path
    it discloses (empty for one parsed out of context)."""

    salt: str
    name: str | None
    value: Any
    encoded: str
    digest: str
    path: ClaimPath = field(default=(), compare=False)

    @classmethod
    def create(cls, salt: str, name: str | None, value: Any, *, path: ClaimPath = ()) -> Disclosure:
        array = [salt, value] if name is None else [salt, name, value]
        try:
            encoded = b64url_encode(_dumps(array).encode("utf-8"))
        except (TypeError, ValueError) as exc:
            where = ".".join(str(part) for part in path) or "claims"
            raise SharingInputError(f"{where}: value is not JSON ({exc})", field=where) from exc
        return cls(salt, name, value, encoded, _digest(encoded), path)

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        """A Disclosure from its base64url form; SdJwtError if it is not one."""
        try:
            array = loads_strict(b64url_decode(encoded))
        except (ValueError, RecursionError) as exc:
            raise SdJwtError("a disclosure is not base64url-encoded JSON") from exc
        if not isinstance(array, list) or len(array) not in (2, 3) or not isinstance(array[0], str):
            raise SdJwtError("a disclosure is not a JSON array [salt, value] or [salt, name, value]")
        if len(array) == 2:
            return cls(array[0], None, array[1], encoded, _digest(encoded))
        if not isinstance(array[1], str):
            raise SdJwtError("a disclosure's claim name is not a string")
        return cls(array[0], array[1], array[2], encoded, _digest(encoded))


def _parent(path: ClaimPath, by_path: Mapping[ClaimPath, Disclosure]) -> ClaimPath | None:
    for cut in range(len(path) - 1, 0, -1):
        if path[:cut] in by_path:
            return path[:cut]
    return None


@dataclass(frozen=True)
class IssuedSdJwt:
    jwt: str
    disclosures: tuple[Disclosure, ...]

    def serialise(self) -> str:
        """The SD-JWT with every Disclosure, as the issuer hands it over."""
        return present_parts(self.jwt, (d.encoded for d in self.disclosures))

    def present(self, keep: Callable[[ClaimPath], bool]) -> str:
        """The presentation carrying the Disclosures whose claim path `keep` accepts; a nested
        Disclosure travels only with every Disclosure above it, since without them its digest is
        nowhere in what the verifier sees."""
        by_path = {d.path: d for d in self.disclosures}
        carried: dict[ClaimPath, bool] = {}
        for d in sorted(self.disclosures, key=lambda d: len(d.path)):
            parent = _parent(d.path, by_path)
            carried[d.path] = keep(d.path) and (parent is None or carried[parent])
        return present_parts(self.jwt, (d.encoded for d in self.disclosures if carried[d.path]))


def present_parts(jwt: str, disclosures: Iterable[str]) -> str:
    """The compact serialisation `<jwt>~<d1>~...~<dn>~` (no key binding JWT)."""
    return jwt + "~" + "".join(d + "~" for d in disclosures)


# --- issuing -------------------------------------------------------------------------------------


def _algorithm_for(key: SigningKey) -> str:
    if isinstance(key, OKPKey) and key.curve_name == "Ed25519":
        # RFC 9864's fully specified name for EdDSA over Ed25519 (joserfc warns on "EdDSA"); the
        # verifier accepts both.
        return "Ed25519"
    if isinstance(key, ECKey) and key.curve_name == "P-256":
        return "ES256"
    raise SharingInputError("key: an SD-JWT is signed with an Ed25519 (OKP) or P-256 (EC) key", field="key")


def _decoy() -> str:
    return b64url_encode(hashlib.sha256(secrets.token_bytes(SALT_BYTES)).digest())


class _Issuer:
    def __init__(self, decoys: int) -> None:
        self.decoys = decoys
        self.disclosures: list[Disclosure] = []
        self._random = b""

    def salt(self) -> str:
        # One call to the system's CSPRNG per 64 salts, not one per salt: same bits, fewer calls.
        if not self._random:
            self._random = secrets.token_bytes(SALT_BYTES * 64)
        chunk, self._random = self._random[:SALT_BYTES], self._random[SALT_BYTES:]
        return b64url_encode(chunk)

    def conceal(self, value: Any, path: ClaimPath) -> Any:
        """`value` with each of its object members and array elements behind a Disclosure."""
        if isinstance(value, Mapping):
            digests: list[str] = []
            for name, inner in value.items():
                self.check_name(name, path)
                at = (*path, name)
                disclosure = Disclosure.create(self.salt(), name, self.conceal(inner, at), path=at)
                self.disclosures.append(disclosure)
                digests.append(disclosure.digest)
            digests.extend(_decoy() for _ in range(self.decoys))
            # Sorted: the order of the digests must not tell the order of the claims.
            return {"_sd": sorted(digests)} if digests else {}
        if isinstance(value, list | tuple):
            elements: list[Any] = []
            for position, inner in enumerate(value):
                where = (*path, position)
                disclosure = Disclosure.create(self.salt(), None, self.conceal(inner, where), path=where)
                self.disclosures.append(disclosure)
                elements.append({"...": disclosure.digest})
            elements.extend({"...": _decoy()} for _ in range(self.decoys))
            return elements
        return value

    @staticmethod
    def check_name(name: Any, path: ClaimPath) -> None:
        if isinstance(name, str) and name not in RESERVED_NAMES:
            return
        where = ".".join(str(part) for part in (*path, name))
        if not isinstance(name, str):
            raise SharingInputError(f"{where}: claim names are strings", field=where)
        raise SharingInputError(f"{where}: {name!r} is reserved by RFC 9901, not a claim name", field=where)

    def check_visible(self, value: Any, path: ClaimPath) -> None:
        if isinstance(value, Mapping):
            for name, inner in value.items():
                self.check_name(name, path)
                self.check_visible(inner, (*path, name))
        elif isinstance(value, list | tuple):
            for position, inner in enumerate(value):
                self.check_visible(inner, (*path, position))


def issue(
    claims: Mapping[str, Any],
    *,
    key: SigningKey,
    kid: str | None = None,
    always_visible: Collection[str] = DEFAULT_ALWAYS_VISIBLE,
    decoys: int = 0,
    typ: str = TYP,
) -> IssuedSdJwt:
    """Sign `claims` as an SD-JWT: every claim not in `always_visible` (top level), at every depth,
    selectively disclosable. `decoys` decoy digests are added to every `_sd` array and every array."""
    if not isinstance(claims, Mapping):
        raise SharingInputError("claims: an SD-JWT payload is a JSON object", field="claims")
    if not 0 <= decoys <= 64:
        raise SharingInputError("decoys: between 0 and 64 per object or array", field="decoys")
    alg = _algorithm_for(key)
    issuer = _Issuer(decoys)
    visible: dict[str, Any] = {}
    hidden: dict[str, Any] = {}
    for name, value in claims.items():
        issuer.check_name(name, ())
        if name in always_visible:
            issuer.check_visible(value, (name,))
            visible[name] = value
        else:
            hidden[name] = value
    try:
        payload = issuer.conceal(hidden, ())
    except RecursionError as exc:
        raise SharingInputError("claims: nested too deeply", field="claims") from exc
    payload.update(visible)
    payload["_sd_alg"] = SD_ALG
    header: dict[str, Any] = {"alg": alg, "typ": typ}
    if kid is not None:
        header["kid"] = kid
    try:
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise SharingInputError(f"claims: a visible value is not JSON ({exc})", field="claims") from exc
    try:
        jwt = jws.serialize_compact(header, body, key, registry=_registry(alg))
    except JoseError as exc:
        raise SharingInputError(f"key: cannot sign with this key ({exc.error})", field="key") from exc
    return IssuedSdJwt(jwt, tuple(issuer.disclosures))


def _registry(alg: str) -> jws.JWSRegistry:
    registry = jws.JWSRegistry(algorithms=[alg])
    # joserfc's default ceiling (128 kB) is below a large declaration; ours is MAX_SERIALISED.
    registry.max_payload_length = MAX_SERIALISED
    return registry


# --- verifying -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedSdJwt:
    claims: dict[str, Any]
    disclosed: tuple[ClaimPath, ...]
    withheld: int
    header: dict[str, Any]


_ALGORITHMS: Final = {"EdDSA": ("OKP", "Ed25519"), "Ed25519": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}


def _split(serialised: str) -> tuple[str, list[str]]:
    if not isinstance(serialised, str) or not serialised.isascii():
        raise SdJwtError("an SD-JWT is ASCII text")
    if len(serialised) > MAX_SERIALISED:
        raise SdJwtError(f"SD-JWT larger than {MAX_SERIALISED} bytes")
    parts = serialised.split("~")
    if len(parts) < 2:
        raise SdJwtError("not an SD-JWT: no '~' after the issuer-signed JWT")
    if parts[-1] != "":
        if parts[-1].count(".") == 2:
            raise SdJwtError("key binding JWT present: key binding is not supported here, so it cannot be checked")
        raise SdJwtError("an SD-JWT ends with '~'")
    disclosures = parts[1:-1]
    if any(d == "" for d in disclosures):
        raise SdJwtError("empty disclosure between '~' separators")
    return parts[0], disclosures


def _check_jwt(jwt: str, key: SigningKey | KeyResolver, typ: Collection[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    segments = jwt.split(".")
    if len(segments) != 3:
        raise SdJwtError("the issuer-signed JWT is not a compact JWS")
    try:
        raw = [b64url_decode(segment) for segment in segments]
        header = loads_strict(raw[0])
        payload = loads_strict(raw[1])
    except (ValueError, RecursionError) as exc:
        raise SdJwtError("the issuer-signed JWT is not base64url-encoded JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SdJwtError("the issuer-signed JWT's header and payload are JSON objects")
    alg = header.get("alg")
    if alg not in _ALGORITHMS:
        raise SdJwtError(f"signature algorithm {alg!r} not accepted (EdDSA with Ed25519, or ES256)")
    if header.get("typ") not in typ:
        raise SdJwtError(f"typ {header.get('typ')!r} is not an accepted SD-JWT type")
    if "crit" in header:
        raise SdJwtError("critical header parameters are not understood")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise SdJwtError("kid is not a string")
    public = key if isinstance(key, OKPKey | ECKey) else key(kid)
    if public is None:
        raise SdJwtError(f"no key for kid {kid!r}")
    kty, crv = _ALGORITHMS[alg]
    if public.key_type != kty or public.curve_name != crv:
        raise SdJwtError(f"signature algorithm {alg} does not match the issuer's key")
    try:
        jws.deserialize_compact(jwt, public, registry=_registry(alg))
    except JoseError as exc:
        raise SdJwtError("the issuer's signature does not verify") from exc
    return header, payload


class _Processor:
    """RFC 9901 section 7.1 step 3, with steps 4 and 5."""

    def __init__(self, disclosures: Mapping[str, Disclosure]) -> None:
        self.disclosures = disclosures
        self.seen: set[str] = set()
        self.used: set[str] = set()
        self.disclosed: list[ClaimPath] = []
        self.withheld = 0

    def lookup(self, digest: Any) -> Disclosure | None:
        if not isinstance(digest, str):
            raise SdJwtError("a digest is not a string")
        if digest in self.seen:
            raise SdJwtError("a digest appears more than once in the SD-JWT")
        self.seen.add(digest)
        found = self.disclosures.get(digest)
        if found is None:
            self.withheld += 1
        else:
            self.used.add(digest)
        return found

    def process(self, value: Any, path: ClaimPath) -> Any:
        if isinstance(value, dict):
            return self.process_object(value, path)
        if isinstance(value, list):
            return self.process_array(value, path)
        return value

    def process_object(self, value: dict[str, Any], path: ClaimPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, inner in value.items():
            if name == "_sd":
                continue
            if name == "...":
                raise SdJwtError("'...' appears outside an array element digest")
            if name == "_sd_alg" and path:
                raise SdJwtError("_sd_alg appears below the top level")
            result[name] = self.process(inner, (*path, name))
        digests = value.get("_sd", [])
        if not isinstance(digests, list):
            raise SdJwtError("_sd is not an array")
        for digest in digests:
            found = self.lookup(digest)
            if found is None:
                continue
            if found.name is None:
                raise SdJwtError("an array-element disclosure is referenced from an object's _sd")
            if found.name in RESERVED_NAMES:
                raise SdJwtError(f"a disclosure uses the reserved claim name {found.name!r}")
            if found.name in result or found.name in value:
                raise SdJwtError(f"a disclosure would overwrite the claim {found.name!r}")
            self.disclosed.append((*path, found.name))
            result[found.name] = self.process(found.value, (*path, found.name))
        return result

    def process_array(self, value: list[Any], path: ClaimPath) -> list[Any]:
        result: list[Any] = []
        for position, element in enumerate(value):
            if isinstance(element, dict) and "..." in element:
                if len(element) != 1:
                    raise SdJwtError("an array element digest object has members besides '...'")
                found = self.lookup(element["..."])
                if found is None:
                    continue
                if found.name is not None:
                    raise SdJwtError("an object-property disclosure is referenced from an array")
                self.disclosed.append((*path, position))
                result.append(self.process(found.value, (*path, position)))
            else:
                result.append(self.process(element, (*path, position)))
        return result


def _check_validity(claims: Mapping[str, Any], now: datetime | None) -> None:
    moment = (now or datetime.now(UTC)).timestamp()
    for name in ("exp", "nbf", "iat"):
        if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], int | float)):
            raise SdJwtError(f"{name} is not a NumericDate")
    if "exp" in claims and claims["exp"] <= moment - SKEW_SECONDS:
        raise SdJwtError("the SD-JWT has expired (exp)")
    if "nbf" in claims and claims["nbf"] > moment + SKEW_SECONDS:
        raise SdJwtError("the SD-JWT is not yet valid (nbf)")


def verify(
    serialised: str,
    *,
    key: SigningKey | KeyResolver,
    typ: Collection[str] = (TYP,),
    now: datetime | None = None,
) -> VerifiedSdJwt:
    """Check an SD-JWT (RFC 9901 section 7.1) and return its processed payload. `key` is the issuer's
    public key, or a function of the header's kid that returns it (None: unknown). SdJwtError on any
    failure: nothing is returned from an SD-JWT that fails any check."""
    jwt, encoded = _split(serialised)
    header, payload = _check_jwt(jwt, key, typ)
    sd_alg = payload.get("_sd_alg", SD_ALG)
    if sd_alg != SD_ALG:
        raise SdJwtError(f"_sd_alg {sd_alg!r} not supported (sha-256 only)")
    by_digest: dict[str, Disclosure] = {}
    for text in encoded:
        disclosure = Disclosure.parse(text)
        if disclosure.digest in by_digest:
            raise SdJwtError("the same disclosure is presented twice")
        by_digest[disclosure.digest] = disclosure
    processor = _Processor(by_digest)
    try:
        claims = processor.process_object(payload, ())
    except RecursionError as exc:
        raise SdJwtError("the SD-JWT is nested too deeply") from exc
    if processor.used != by_digest.keys():
        raise SdJwtError("a disclosure is not referenced by any digest in the SD-JWT")
    claims.pop("_sd_alg", None)
    _check_validity(claims, now)
    return VerifiedSdJwt(claims, tuple(processor.disclosed), processor.withheld, header)


def digest_of(serialised: str) -> str:
    """SHA-256 (hex) of the exact presented text: what the ledger records as disclosed."""
    return hashlib.sha256(serialised.encode("utf-8")).hexdigest()
