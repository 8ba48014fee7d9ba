"""The two cores together, as the sharing service uses them: a declaration issued as an SD-JWT,
presented with what an agreement allows, sealed, opened by the partner and verified. Whatever the
agreement leaves out is nowhere in the package, not even once decrypted and decoded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from joserfc import jwe
from joserfc.jwk import OKPKey

from clearguard.sharing import envelope, sdjwt
from clearguard.sharing.jose_util import b64url_decode
from clearguard.sharing.sdjwt import ClaimPath

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DECLARATION: dict[str, Any] = {
    "iss": "GB-HMRC",
    "type": "H1",
    "declarant": {"eori": "GB987654321000", "name": "Northwind Traders Ltd"},
    "invoice": {"currency": "USD", "amount": "18250.00"},
    "items": [
        {"commodity_code": "8517130000", "item_price": "12000.00", "origin_country": "CN"},
        {"commodity_code": "8471300000", "item_price": "6250.00", "origin_country": "VN"},
    ],
}
WITHHELD = ["GB987654321000", "Northwind", "18250.00", "12000.00", "6250.00", "declarant", "invoice", "item_price"]


def allowed(path: ClaimPath) -> bool:
    return path[0] in {"type", "items"} and (len(path) < 3 or path[2] in {"commodity_code", "origin_country"})


def test_only_what_the_agreement_allows_leaves_and_the_partner_verifies_it() -> None:
    signing, decryption = envelope.new_signing_key(), envelope.new_encryption_key()
    signing_public = OKPKey.import_key(envelope.public_jwk(signing))
    issued = sdjwt.issue(DECLARATION, key=signing, kid=signing.kid, decoys=1)
    presentation = issued.present(allowed)
    package = envelope.seal(
        {"sd_jwt": presentation},
        kind="declaration",
        agreement="agr-7",
        sender="GB-HMRC",
        recipient="NL-DOUANE",
        signing_key=signing,
        signing_kid=signing.kid,
        recipient_key=OKPKey.import_key(envelope.public_jwk(decryption)),
        recipient_kid=decryption.kid,
        now=NOW,
    )

    # Everything the partner could ever read out of the file: the JWE decrypted, the JWS payload, the
    # SD-JWT's payload and every Disclosure decoded.
    inner = jwe.decrypt_compact(package, decryption, algorithms=["ECDH-ES+A256KW", "A256GCM"]).plaintext or b""
    readable = [inner.decode()]
    signed_payload = json.loads(b64url_decode(inner.decode().split(".")[1]))
    jwt, *disclosures = signed_payload["body"]["sd_jwt"].split("~")
    readable.append(b64url_decode(jwt.split(".")[1]).decode())
    readable.extend(b64url_decode(d).decode() for d in disclosures if d)
    for text in readable:
        for secret in WITHHELD:
            assert secret not in text

    opened = envelope.open_package(
        package,
        recipient="NL-DOUANE",
        decryption_key=decryption,
        sender_key=lambda iss, kid: signing_public if (iss, kid) == ("GB-HMRC", signing.kid) else None,
        now=NOW,
    )
    verified = sdjwt.verify(opened.body["sd_jwt"], key=lambda kid: signing_public if kid == signing.kid else None)
    assert verified.claims == {
        "iss": "GB-HMRC",
        "type": "H1",
        "items": [
            {"commodity_code": "8517130000", "origin_country": "CN"},
            {"commodity_code": "8471300000", "origin_country": "VN"},
        ],
    }
    assert sdjwt.digest_of(opened.body["sd_jwt"]) == sdjwt.digest_of(presentation)
    # withheld digests: declarant, invoice and two item prices, plus one decoy in each of the four
    # containers the partner sees (the top object, the items array, each item)
    assert verified.withheld == 8
