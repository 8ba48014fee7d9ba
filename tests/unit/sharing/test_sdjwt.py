"""SD-JWT issue, present and verify: any subset verifies to exactly that subset; every changed byte,
duplicated, foreign or orphaned Disclosure, and every payload that breaks RFC 9901's rules, refused."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import ECKey, OctKey, OKPKey

from clearguard.sharing import sdjwt
from clearguard.sharing.errors import SdJwtError, SharingInputError
from clearguard.sharing.jose_util import b64url_decode, b64url_encode
from clearguard.sharing.sdjwt import ClaimPath, Disclosure

ED = OKPKey.generate_key("Ed25519")
EC = ECKey.generate_key("P-256")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
VISIBLE = set(sdjwt.DEFAULT_ALWAYS_VISIBLE)

DECLARATION: dict[str, Any] = {
    "iss": "GB-HMRC",
    "iat": 1796990000,
    "type": "H1",
    "declarant": {"eori": "GB123456789000", "name": "Acme Imports Ltd"},
    "items": [
        {"commodity_code": "8517130000", "origin_country": "CN", "net_mass_kg": "180.000"},
        {"commodity_code": "8471300000", "origin_country": "CN"},
    ],
    "total_packages": 160,
}


def _carried(keep: set[ClaimPath], paths: list[ClaimPath]) -> set[ClaimPath]:
    """The paths a presentation carries: kept, and every enclosing claim kept too."""
    return {p for p in paths if all(p[:cut] in keep for cut in range(1, len(p) + 1))}


def _expected(claims: dict[str, Any], carried: set[ClaimPath]) -> dict[str, Any]:
    def walk(value: Any, path: ClaimPath) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items() if (*path, k) in carried}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value) if (*path, i) in carried]
        return value

    out: dict[str, Any] = {}
    for name, value in claims.items():
        if name in VISIBLE:
            out[name] = value
        elif (name,) in carried:
            out[name] = walk(value, (name,))
    return out


def _craft(payload: Any, *, header: dict[str, Any] | None = None, key: Any = ED, disclosures: list[str] = ()) -> str:
    """An SD-JWT signed by the real issuer key over a payload of the test's choosing."""
    header = header or {"alg": "Ed25519", "typ": "dc+sd-jwt"}
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    jwt = jws.serialize_compact(header, body, key, algorithms=[header["alg"]])
    return sdjwt.present_parts(jwt, disclosures)


names = st.text(min_size=1, max_size=6).filter(lambda s: s not in sdjwt.RESERVED_NAMES)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3), max_leaves=10
)
# exp, nbf and iat at the top level must be NumericDates (checked by tests of their own): any
# other value is refused, as hypothesis found with {"nbf": None}.
claim_sets = st.dictionaries(names.filter(lambda s: s not in ("exp", "nbf", "iat")), json_values, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claim_sets, data=st.data(), use_ec=st.booleans())
def test_any_subset_verifies_to_exactly_that_subset(claims: dict[str, Any], data: st.DataObject, use_ec: bool) -> None:
    key = EC if use_ec else ED
    issued = sdjwt.issue(claims, key=key)
    paths = [d.path for d in issued.disclosures]
    keep = data.draw(st.sets(st.sampled_from(paths))) if paths else set()
    verified = sdjwt.verify(issued.present(lambda p: p in keep), key=key, now=NOW)
    carried = _carried(keep, paths)
    assert set(verified.disclosed) == carried
    assert len(verified.disclosed) == len(carried)
    assert verified.claims == _expected(claims, carried)
    # withheld: the digests the verifier sees (in the payload or in what was disclosed) but cannot open
    seen = [p for p in paths if len(p) == 1 or p[:-1] in carried]
    assert verified.withheld == len([p for p in seen if p not in carried])


def test_everything_presented_gives_back_the_claims() -> None:
    issued = sdjwt.issue(DECLARATION, key=ED, kid="gb-1", decoys=2)
    verified = sdjwt.verify(issued.serialise(), key=lambda kid: ED if kid == "gb-1" else None, now=NOW)
    assert verified.claims == DECLARATION
    assert verified.header == {"alg": "Ed25519", "typ": "dc+sd-jwt", "kid": "gb-1"}
    # decoys in the top object, declarant, items and each item: 5 containers x 2
    assert verified.withheld == 10


def test_the_signed_part_shows_only_the_always_visible_claims() -> None:
    issued = sdjwt.issue(DECLARATION, key=ED)
    payload = json.loads(b64url_decode(issued.jwt.split(".")[1]))
    assert payload["iss"] == "GB-HMRC" and payload["_sd_alg"] == "sha-256"
    assert set(payload) == {"iss", "iat", "_sd", "_sd_alg"}
    text = json.dumps(payload)
    for secret in ("GB123456789000", "Acme", "8517130000", "declarant", "items"):
        assert secret not in text


@pytest.mark.asvs("V11.5.1")
def test_salts_are_128_random_bits_and_unique() -> None:
    issued = sdjwt.issue(DECLARATION, key=ED)
    salts = [d.salt for d in issued.disclosures]
    assert all(len(b64url_decode(s)) == 16 for s in salts)
    assert len(set(salts)) == len(salts) == 13
    again = sdjwt.issue(DECLARATION, key=ED)
    assert not {d.digest for d in issued.disclosures} & {d.digest for d in again.disclosures}


def test_a_nested_claim_travels_only_with_its_parents() -> None:
    issued = sdjwt.issue(DECLARATION, key=ED)
    only_code = issued.present(lambda p: p == ("items", 0, "commodity_code"))
    assert sdjwt.verify(only_code, key=ED, now=NOW).claims == {"iss": "GB-HMRC", "iat": 1796990000}
    with_parents = issued.present(lambda p: p in {("items",), ("items", 0), ("items", 0, "commodity_code")})
    verified = sdjwt.verify(with_parents, key=ED, now=NOW)
    assert verified.claims["items"] == [{"commodity_code": "8517130000"}]
    assert set(verified.disclosed) == {("items",), ("items", 0), ("items", 0, "commodity_code")}


def _small() -> str:
    return sdjwt.issue({"iss": "GB", "a": {"b": "x"}, "c": ["y"]}, key=ED).serialise()


SMALL = _small()


@pytest.mark.asvs("V9.1.1")
def test_every_changed_or_deleted_character_is_refused() -> None:
    refused = 0
    for position, char in enumerate(SMALL):
        for replacement in {chr(ord(char) ^ 1), chr(ord(char) ^ 0x20), "~", "."} - {char}:
            with pytest.raises(SdJwtError):
                sdjwt.verify(SMALL[:position] + replacement + SMALL[position + 1 :], key=ED, now=NOW)
            refused += 1
        with pytest.raises(SdJwtError):
            sdjwt.verify(SMALL[:position] + SMALL[position + 1 :], key=ED, now=NOW)
    assert refused > 3 * len(SMALL)


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.characters())
def test_any_character_anywhere_is_refused(position: int, replacement: str) -> None:
    position %= len(SMALL)
    if SMALL[position] == replacement:
        return
    with pytest.raises(SdJwtError):
        sdjwt.verify(SMALL[:position] + replacement + SMALL[position + 1 :], key=ED, now=NOW)


def test_duplicated_foreign_and_orphaned_disclosures_are_refused() -> None:
    issued = sdjwt.issue(DECLARATION, key=ED)
    full = issued.serialise()
    first = issued.disclosures[0].encoded
    with pytest.raises(SdJwtError, match="twice"):
        sdjwt.verify(full + first + "~", key=ED, now=NOW)
    foreign = sdjwt.issue(DECLARATION, key=ED).disclosures[0].encoded
    with pytest.raises(SdJwtError, match="not referenced"):
        sdjwt.verify(full + foreign + "~", key=ED, now=NOW)
    # Dropping a parent leaves its children's digests nowhere: refused.
    parent = next(d for d in issued.disclosures if d.path == ("declarant",))
    with pytest.raises(SdJwtError, match="not referenced"):
        sdjwt.verify(full.replace(parent.encoded + "~", ""), key=ED, now=NOW)
    # Dropping a leaf is what selective disclosure is for: that claim is withheld, nothing else changes.
    leaf = next(d for d in issued.disclosures if d.path == ("declarant", "name"))
    verified = sdjwt.verify(full.replace(leaf.encoded + "~", ""), key=ED, now=NOW)
    assert verified.claims["declarant"] == {"eori": "GB123456789000"} and verified.withheld == 1


def test_disclosures_may_come_in_any_order() -> None:
    issued = sdjwt.issue(DECLARATION, key=ED)
    reversed_order = sdjwt.present_parts(issued.jwt, [d.encoded for d in reversed(issued.disclosures)])
    assert sdjwt.verify(reversed_order, key=ED, now=NOW).claims == DECLARATION


@pytest.mark.asvs("V9.1.2", "V9.1.3")
def test_wrong_keys_and_algorithms_are_refused() -> None:
    ec_issued = sdjwt.issue(DECLARATION, key=EC).serialise()
    assert sdjwt.verify(ec_issued, key=EC, now=NOW).header["alg"] == "ES256"
    with pytest.raises(SdJwtError, match="does not match"):
        sdjwt.verify(ec_issued, key=ED, now=NOW)
    with pytest.raises(SdJwtError, match="does not verify"):
        sdjwt.verify(_small(), key=OKPKey.generate_key("Ed25519"), now=NOW)
    with pytest.raises(SdJwtError, match="no key"):
        sdjwt.verify(_small(), key=lambda kid: None, now=NOW)
    unsigned = b64url_encode(b'{"alg":"none","typ":"dc+sd-jwt"}') + "." + b64url_encode(b'{"iss":"GB"}') + ".~"
    with pytest.raises(SdJwtError, match="not accepted"):
        sdjwt.verify(unsigned, key=ED, now=NOW)
    hmac_key = OctKey.generate_key(256)
    with pytest.raises(SdJwtError, match="not accepted"):
        sdjwt.verify(_craft({"iss": "GB"}, header={"alg": "HS256", "typ": "dc+sd-jwt"}, key=hmac_key), key=ED, now=NOW)
    with pytest.raises(SdJwtError, match="typ"):
        sdjwt.verify(_craft({"iss": "GB"}, header={"alg": "Ed25519", "typ": "JWT"}), key=ED, now=NOW)
    with pytest.warns(Warning):  # joserfc's deprecation of the name; the signature is the same
        eddsa = _craft({"iss": "GB"}, header={"alg": "EdDSA", "typ": "dc+sd-jwt"})
        assert sdjwt.verify(eddsa, key=ED, now=NOW).claims == {"iss": "GB"}


def _disclose(name: str | None, value: Any) -> Disclosure:
    return Disclosure.create(b64url_encode(b"0123456789abcdef"), name, value)


def test_issuer_payloads_that_break_the_rules_are_refused() -> None:
    a = _disclose("a", 1)
    element = _disclose(None, "x")
    cases: list[tuple[Any, list[str], str]] = [
        ({"_sd": [a.digest], "_sd_alg": "sha-512"}, [a.encoded], "_sd_alg"),
        ({"_sd": [a.digest], "a": 2}, [a.encoded], "overwrite"),
        ({"_sd": [_disclose("_sd", 1).digest]}, [_disclose("_sd", 1).encoded], "reserved"),
        ({"_sd": [_disclose("...", 1).digest]}, [_disclose("...", 1).encoded], "reserved"),
        ({"_sd": [a.digest, a.digest]}, [a.encoded], "more than once"),
        ({"b": [{"...": element.digest}], "c": [{"...": element.digest}]}, [element.encoded], "more than once"),
        ({"_sd": ["decoy", "decoy"]}, [], "more than once"),
        ({"_sd": [element.digest]}, [element.encoded], "array-element"),
        ({"b": [{"...": a.digest}]}, [a.encoded], "object-property"),
        ({"b": [{"...": element.digest, "x": 1}]}, [element.encoded], "besides"),
        ({"b": {"...": "x"}}, [], "outside"),
        ({"b": {"_sd_alg": "sha-256"}}, [], "below the top"),
        ({"_sd": "abc"}, [], "not an array"),
        ({"_sd": [a.digest, _disclose("a", 3).digest]}, [a.encoded, _disclose("a", 3).encoded], "overwrite"),
        ({"_sd": [a.digest]}, [a.encoded + "~" + a.encoded], "empty|twice"),
        (b'{"iss": "GB", "iss": "FR"}', [], "JSON"),
        ({"exp": "tomorrow"}, [], "NumericDate"),
        ({"nbf": 1900000000}, [], "not yet valid"),
    ]
    for payload, disclosures, message in cases:
        with pytest.raises(SdJwtError, match=message):
            sdjwt.verify(_craft(payload, disclosures=disclosures), key=ED, now=NOW)


def test_malformed_serialisations_are_refused() -> None:
    jwt = _small().split("~")[0]
    for text in ("", "~", jwt, jwt + "~~", jwt + "~abc", "a.b~", jwt + "~!!~", jwt + "~é~", jwt + "~WyJhIl0~"):
        with pytest.raises(SdJwtError):
            sdjwt.verify(text, key=ED, now=NOW)


def test_issue_refuses_reserved_names_and_values_that_are_not_json() -> None:
    for claims in ({"_sd": 1}, {"a": {"...": 1}}, {"a": [{"_sd_alg": 1}]}, {"cnf": {"_sd": []}}):
        with pytest.raises(SharingInputError, match="reserved"):
            sdjwt.issue(claims, key=ED)
    for claims in ({"a": {1, 2}}, {"a": float("nan")}, {"a": datetime(2026, 1, 1)}):
        with pytest.raises(SharingInputError, match="not JSON"):
            sdjwt.issue(claims, key=ED)
    with pytest.raises(SharingInputError, match="key"):
        sdjwt.issue({"a": 1}, key=OKPKey.generate_key("X25519"))
    with pytest.raises(SharingInputError, match="decoys"):
        sdjwt.issue({"a": 1}, key=ED, decoys=-1)


def test_digest_of_is_the_sha256_of_the_presented_text() -> None:
    issued = sdjwt.issue(DECLARATION, key=ED)
    one, other = issued.present(lambda p: True), issued.present(lambda p: p == ("type",))
    assert sdjwt.digest_of(one) == hashlib.sha256(one.encode()).hexdigest()
    assert sdjwt.digest_of(one) != sdjwt.digest_of(other)


def test_an_sd_jwt_beyond_joserfc_default_payload_size_issues_and_verifies() -> None:
    claims = {"lines": [{"description": "x" * 40, "code": str(n)} for n in range(2500)], "secret": "s"}
    issued = sdjwt.issue(claims, key=ED, always_visible=("lines",))
    assert len(issued.jwt) > 128_000  # joserfc's default payload ceiling
    verified = sdjwt.verify(issued.serialise(), key=ED, now=NOW)
    assert verified.claims == claims and verified.disclosed == (("secret",),)


def test_deep_nesting_is_refused_not_crashed() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(SharingInputError, match="deeply"):
        sdjwt.issue({"a": deep}, key=ED)
    with pytest.raises(SdJwtError):
        sdjwt.verify(_craft(b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"), key=ED, now=NOW)
    with pytest.raises(SdJwtError):
        sdjwt.verify(_craft(b'{"a":' + b"[" * 900 + b"]" * 900 + b"}"), key=ED, now=NOW)
    assert sdjwt.verify(_craft(b'{"a":' + b"[" * 50 + b"]" * 50 + b"}"), key=ED, now=NOW).claims["a"]
