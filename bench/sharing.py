"""Sharing benchmark: partner packages built and verified per second, beside the bare JWS+JWE of the
same bytes in the same run.

The claims are a real declaration (`../shared/examples/h1-import.json`, or --example FILE). Built: the
declaration issued as an SD-JWT (Ed25519, every field a salted disclosure), presented with the
disclosures an agreement on codes and quantities would allow (no party, no price), and sealed as a
package (JWS Ed25519 in JWE ECDH-ES+A256KW/A256GCM to an X25519 key). Verified: the package opened
(every check of `open_package`) and the SD-JWT verified (every check of RFC 9901 section 7.1). The
baseline signs and encrypts the same body bytes with bare joserfc calls (same algorithms and keys),
then decrypts and verifies them, with no SD-JWT and no checks of ours. Prints packages per second for
both, and the ratio.

    .venv/bin/python bench/sharing.py [--count 2000] [--rounds 3] [--example FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc import jwe, jws
from joserfc.jwk import OKPKey

from clearguard.sharing import envelope, sdjwt
from clearguard.sharing.sdjwt import ClaimPath

# ../shared beside the repository; from a worktree under /work/wt/NAME, two levels up.
EXAMPLE = next(
    (
        found
        for parent in Path(__file__).resolve().parents
        if (found := parent / "shared" / "examples" / "h1-import.json").is_file()
    ),
    Path("../shared/examples/h1-import.json"),
)
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SHARED_ITEM_FIELDS = {"commodity_code", "origin_country", "net_mass_kg", "gross_mass_kg", "supplementary_units"}
SHARED_TOP = {"type", "procedure", "country_of_dispatch", "total_packages", "gross_mass_kg", "items"}


def allowed(path: ClaimPath) -> bool:
    """An agreement on codes and quantities: no parties, no prices, no documents."""
    if path[0] not in SHARED_TOP:
        return False
    return len(path) < 3 or (path[0] == "items" and path[2] in SHARED_ITEM_FIELDS)


class Keys:
    def __init__(self) -> None:
        self.signing = envelope.new_signing_key()
        self.signing_public = OKPKey.import_key(envelope.public_jwk(self.signing))
        self.decryption = envelope.new_encryption_key()
        self.encryption = OKPKey.import_key(envelope.public_jwk(self.decryption))

    def sender(self, iss: str, kid: str) -> OKPKey | None:
        return self.signing_public if (iss, kid) == ("GB-HMRC", self.signing.kid) else None


def build(claims: dict[str, Any], keys: Keys) -> bytes:
    issued = sdjwt.issue(
        {"iss": "GB-HMRC", "iat": int(NOW.timestamp()), **claims}, key=keys.signing, kid=keys.signing.kid
    )
    return envelope.seal(
        {"sd_jwt": issued.present(allowed)},
        kind="declaration",
        agreement="agr-1",
        sender="GB-HMRC",
        recipient="NL-DOUANE",
        signing_key=keys.signing,
        signing_kid=keys.signing.kid,
        recipient_key=keys.encryption,
        recipient_kid=keys.decryption.kid,
        now=NOW,
    )


def verify(package: bytes, keys: Keys) -> dict[str, Any]:
    opened = envelope.open_package(
        package, recipient="NL-DOUANE", decryption_key=keys.decryption, sender_key=keys.sender, now=NOW
    )
    return sdjwt.verify(opened.body["sd_jwt"], key=keys.signing_public, now=NOW).claims


def bare_build(body: bytes, keys: Keys) -> bytes:
    signed = jws.serialize_compact(
        {"alg": "Ed25519", "kid": keys.signing.kid}, body, keys.signing, algorithms=["Ed25519"]
    )
    header = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": keys.decryption.kid, "cty": "JWT"}
    return jwe.encrypt_compact(header, signed, keys.encryption, algorithms=["ECDH-ES+A256KW", "A256GCM"]).encode()


def bare_verify(package: bytes, keys: Keys) -> bytes:
    opened = jwe.decrypt_compact(package, keys.decryption, algorithms=["ECDH-ES+A256KW", "A256GCM"])
    return jws.deserialize_compact(opened.plaintext or b"", keys.signing_public, algorithms=["Ed25519"]).payload


def timed(count: int, step: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        step()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--example", type=Path, default=EXAMPLE)
    args = parser.parse_args()

    claims = json.loads(args.example.read_text())
    keys = Keys()
    package = build(claims, keys)
    shown = verify(package, keys)
    # The baseline carries exactly the bytes our package signs: the JWS payload inside the JWE.
    body = json.dumps(
        envelope.open_package(
            package, recipient="NL-DOUANE", decryption_key=keys.decryption, sender_key=keys.sender, now=NOW
        ).body,
        separators=(",", ":"),
    ).encode()
    bare = bare_build(body, keys)
    assert bare_verify(bare, keys) == body

    print(f"sharing: {args.example.name}, {len(json.dumps(claims))} bytes of claims -> package {len(package):,} bytes")
    print(f"  disclosed to the partner: {sorted(shown)}")
    print(f"  {'':<44}{'clearguard':>12}{'bare JOSE':>12}{'ratio':>8}")
    best: dict[str, float] = {}
    runners: dict[str, Callable[[], object]] = {
        "build": lambda: build(claims, keys),
        "bare build": lambda: bare_build(body, keys),
        "verify": lambda: verify(package, keys),
        "bare verify": lambda: bare_verify(bare, keys),
    }
    for _ in range(args.rounds):  # interleaved, best of the rounds
        for name, step in runners.items():
            best[name] = max(best.get(name, 0.0), timed(args.count, step))
    for label, ours, base in (
        ("packages built per second (issue+present+seal)", best["build"], best["bare build"]),
        ("packages verified per second (open+verify)", best["verify"], best["bare verify"]),
    ):
        print(f"  {label:<44}{ours:12,.0f}{base:12,.0f}{ours / base:8.2f}")


if __name__ == "__main__":
    main()
