"""RFC 9901's own examples: our Disclosures and digests reproduce the RFC's byte for byte, and our
verifier checks the RFC's issuer signature (the key of its appendix A.5) and processes its example
into the RFC's processed payload. The strings are the RFC's (sections 4.2, 5.1, 5.2, 6.3, A.1, A.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc.jwk import ECKey

from clearguard.sharing import sdjwt
from clearguard.sharing.errors import SdJwtError
from clearguard.sharing.sdjwt import Disclosure

# Appendix A.5: the issuer's public key of every example.
RFC_ISSUER_KEY = ECKey.import_key(
    {
        "kty": "EC",
        "crv": "P-256",
        "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
        "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
    }
)
RFC_TYP = ("example+sd-jwt",)
# Within the example's validity (iat 1683000000, exp 1883000000).
WHEN = datetime(2026, 1, 1, tzinfo=UTC)

# Section 5.1: salt, claim name (None: array element), value -> Disclosure, SHA-256 digest.
SECTION_5_1: list[tuple[str, str | None, Any, str, str]] = [
    (
        "2GLC42sKQveCfGfryNRN9w",
        "given_name",
        "John",
        "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
        "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
    ),
    (
        "eluV5Og3gSNII8EYnsxA_A",
        "family_name",
        "Doe",
        "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd",
        "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo",
    ),
    (
        "6Ij7tM-a5iVPGboS5tmvVA",
        "email",
        "johndoe@example.com",
        "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ",
        "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE",
    ),
    (
        "eI8ZWm9QnKPpNPeNenHdhQ",
        "phone_number",
        "+1-202-555-0101",
        "WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25lX251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ",
        "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI",
    ),
    (
        "Qg_O64zqAxe412a108iroA",
        "phone_number_verified",
        True,
        "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92ZXJpZmllZCIsIHRydWVd",
        "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM",
    ),
    (
        "AJx-095VPrpTtN4QMOqROA",
        "address",
        {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
        "WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0Iiwg"
        "ImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0",
        "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE",
    ),
    (
        "Pc33JM2LchcU_lHggv_ufQ",
        "birthdate",
        "1940-01-01",
        "WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0",
        "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM",
    ),
    (
        "G02NSrQfjFXQ7Io09syajA",
        "updated_at",
        1570000000,
        "WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ",
        "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI",
    ),
    (
        "lklxF5jMYlGTPUovMNIvCA",
        None,
        "US",
        "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0",
        "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo",
    ),
    (
        "nPuoQnkRFq3BIeAm7AnXFA",
        None,
        "DE",
        "WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0",
        "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0",
    ),
]

# Sections 4.2.1 and 4.2.3 (a non-ASCII value), 4.2.2 and 4.2.4.2 (an array element).
MOBIUS = (
    "_26bc4LT-ac6q2KI6cBW5es",
    "family_name",
    "Möbius",
    "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
    "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0",
)
FR = (
    "lklxF5jMYlGTPUovMNIvCA",
    None,
    "FR",
    "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0",
    "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs",
)
# Section 4.2.1: other encodings of the same Möbius claim (unicode escape, no spaces, newlines).
MOBIUS_VARIANTS = [
    "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd",
    "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd",
    "WwoiXzI2YmM0TFQtYWM2cTJLSTZjQlc1ZXMiLAoiZmFtaWx5X25hbWUiLAoiTcO2Yml1cyIKXQ",
]
# Section 6.3: recursive disclosures; the address's value carries the digests of its own claims.
RECURSIVE_ADDRESS = (
    "Qg_O64zqAxe412a108iroA",
    "address",
    {
        "_sd": [
            "6vh9bq-zS4GKM_7GpggVbYzzu6oOGXrmNVGPHP75Ud0",
            "9gjVuXtdFROCgRrtNcGUXmF65rdezi_6Er_j76kmYyM",
            "KURDPh4ZC19-3tiz-Df39V8eidy1oV3a3H1Da2N0g88",
            "WN9r9dCBJ8HTCsS2jKASxTjEyW5m5x65_Z_2ro2jfXM",
        ]
    },
    "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgImFkZHJlc3MiLCB7Il9zZCI6IFsiNnZoOWJxLXpTNEdLTV83R3BnZ1ZiWXp6"
    "dTZvT0dYcm1OVkdQSFA3NVVkMCIsICI5Z2pWdVh0ZEZST0NnUnJ0TmNHVVhtRjY1cmRlemlfNkVyX2o3NmttWXlNIiwgIktV"
    "UkRQaDRaQzE5LTN0aXotRGYzOVY4ZWlkeTFvVjNhM0gxRGEyTjBnODgiLCAiV045cjlkQ0JKOEhUQ3NTMmpLQVN4VGpFeVc1"
    "bTV4NjVfWl8ycm8yamZYTSJdfV0",
    "HvrKX6fPV0v9K_yCVFBiLFHsMaxcD_114Em6VT8x1lg",
)
RECURSIVE_STREET = (
    "2GLC42sKQveCfGfryNRN9w",
    "street_address",
    "Schulstr. 12",
    "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgInN0cmVldF9hZGRyZXNzIiwgIlNjaHVsc3RyLiAxMiJd",
    "9gjVuXtdFROCgRrtNcGUXmF65rdezi_6Er_j76kmYyM",
)

ALL_PAIRS = [*SECTION_5_1, MOBIUS, FR, RECURSIVE_ADDRESS, RECURSIVE_STREET]

RFC_ISSUED = (
    "eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImV4YW1wbGUrc2Qtand0In0.eyJfc2QiOiBbIkNyUWU3UzVrcUJBSHQtbk1ZWGdj"
    "NmJkdDJTSDVhVFkxc1VfTS1QZ2tqUEkiLCAiSnpZakg0c3ZsaUgwUjNQeUVNZmVadTZKdDY5dTVxZWhabzdGN0VQWWxTRSIs"
    "ICJQb3JGYnBLdVZ1Nnh5bUphZ3ZrRnNGWEFiUm9jMkpHbEFVQTJCQTRvN2NJIiwgIlRHZjRvTGJnd2Q1SlFhSHlLVlFaVTlV"
    "ZEdFMHc1cnREc3JaemZVYW9tTG8iLCAiWFFfM2tQS3QxWHlYN0tBTmtxVlI2eVoyVmE1TnJQSXZQWWJ5TXZSS0JNTSIsICJY"
    "ekZyendzY002R242Q0pEYzZ2Vks4QmtNbmZHOHZPU0tmcFBJWmRBZmRFIiwgImdiT3NJNEVkcTJ4Mkt3LXc1d1BFemFrb2I5"
    "aFYxY1JEMEFUTjNvUUw5Sk0iLCAianN1OXlWdWx3UVFsaEZsTV8zSmx6TWFTRnpnbGhRRzBEcGZheVF3TFVLNCJdLCAiaXNz"
    "IjogImh0dHBzOi8vaXNzdWVyLmV4YW1wbGUuY29tIiwgImlhdCI6IDE2ODMwMDAwMDAsICJleHAiOiAxODgzMDAwMDAwLCAi"
    "c3ViIjogInVzZXJfNDIiLCAibmF0aW9uYWxpdGllcyI6IFt7Ii4uLiI6ICJwRm5kamtaX1ZDem15VGE2VWpsWm8zZGgta284"
    "YUlLUWM5RGxHemhhVllvIn0sIHsiLi4uIjogIjdDZjZKa1B1ZHJ5M2xjYndIZ2VaOGtoQXYxVTFPU2xlclAwVmtCSnJXWjAi"
    "fV0sICJfc2RfYWxnIjogInNoYS0yNTYiLCAiY25mIjogeyJqd2siOiB7Imt0eSI6ICJFQyIsICJjcnYiOiAiUC0yNTYiLCAi"
    "eCI6ICJUQ0FFUjE5WnZ1M09IRjRqNFc0dmZTVm9ISVAxSUxpbERsczd2Q2VHZW1jIiwgInkiOiAiWnhqaVdXYlpNUUdIVldL"
    "VlE0aGJTSWlyc1ZmdWVjQ0U2dDRqVDlGMkhaUSJ9fX0.xJUoRLl1sVRxz57ralck9kBWbzbq0soK6dQ5liBXuge3IY8vVYq2"
    "xi1tywYwvlRTtPIM2A-XDzyta-SaJLhexQ~WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9ob"
    "iJd~WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd~WyI2SWo3dE0tYTVpVlBHYm9TNXR"
    "tdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ~WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25l"
    "X251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ~WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92Z"
    "XJpZmllZCIsIHRydWVd~WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjog"
    "IjEyMyBNYWluIFN0IiwgImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAi"
    "VVMifV0~WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0~WyJHMDJOU3JRZmpG"
    "WFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ~WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTI"
    "l0~WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0~"
)

RFC_PRESENTATION_KB = (
    "eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImV4YW1wbGUrc2Qtand0In0.eyJfc2QiOiBbIkNyUWU3UzVrcUJBSHQtbk1ZWGdj"
    "NmJkdDJTSDVhVFkxc1VfTS1QZ2tqUEkiLCAiSnpZakg0c3ZsaUgwUjNQeUVNZmVadTZKdDY5dTVxZWhabzdGN0VQWWxTRSIs"
    "ICJQb3JGYnBLdVZ1Nnh5bUphZ3ZrRnNGWEFiUm9jMkpHbEFVQTJCQTRvN2NJIiwgIlRHZjRvTGJnd2Q1SlFhSHlLVlFaVTlV"
    "ZEdFMHc1cnREc3JaemZVYW9tTG8iLCAiWFFfM2tQS3QxWHlYN0tBTmtxVlI2eVoyVmE1TnJQSXZQWWJ5TXZSS0JNTSIsICJY"
    "ekZyendzY002R242Q0pEYzZ2Vks4QmtNbmZHOHZPU0tmcFBJWmRBZmRFIiwgImdiT3NJNEVkcTJ4Mkt3LXc1d1BFemFrb2I5"
    "aFYxY1JEMEFUTjNvUUw5Sk0iLCAianN1OXlWdWx3UVFsaEZsTV8zSmx6TWFTRnpnbGhRRzBEcGZheVF3TFVLNCJdLCAiaXNz"
    "IjogImh0dHBzOi8vaXNzdWVyLmV4YW1wbGUuY29tIiwgImlhdCI6IDE2ODMwMDAwMDAsICJleHAiOiAxODgzMDAwMDAwLCAi"
    "c3ViIjogInVzZXJfNDIiLCAibmF0aW9uYWxpdGllcyI6IFt7Ii4uLiI6ICJwRm5kamtaX1ZDem15VGE2VWpsWm8zZGgta284"
    "YUlLUWM5RGxHemhhVllvIn0sIHsiLi4uIjogIjdDZjZKa1B1ZHJ5M2xjYndIZ2VaOGtoQXYxVTFPU2xlclAwVmtCSnJXWjAi"
    "fV0sICJfc2RfYWxnIjogInNoYS0yNTYiLCAiY25mIjogeyJqd2siOiB7Imt0eSI6ICJFQyIsICJjcnYiOiAiUC0yNTYiLCAi"
    "eCI6ICJUQ0FFUjE5WnZ1M09IRjRqNFc0dmZTVm9ISVAxSUxpbERsczd2Q2VHZW1jIiwgInkiOiAiWnhqaVdXYlpNUUdIVldL"
    "VlE0aGJTSWlyc1ZmdWVjQ0U2dDRqVDlGMkhaUSJ9fX0.xJUoRLl1sVRxz57ralck9kBWbzbq0soK6dQ5liBXuge3IY8vVYq2"
    "xi1tywYwvlRTtPIM2A-XDzyta-SaJLhexQ~WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZ"
    "SJd~WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0"
    "IiwgImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0~WyIyR0xD"
    "NDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd~WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlV"
    "TIl0~eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImtiK2p3dCJ9.eyJub25jZSI6ICIxMjM0NTY3ODkwIiwgImF1ZCI6ICJodH"
    "RwczovL3ZlcmlmaWVyLmV4YW1wbGUub3JnIiwgImlhdCI6IDE3NDg1MzY4NjUsICJzZF9oYXNoIjogImZNVjA1dnVNQVJzM3"
    "VHMERnMEJZZF83bVFSOUVHQmtSb2YwY1RaeXVxWEUifQ.76YniH11s4EDLnqNXKzYtIU1yXEBNzY8wfTd1QkpKzcJ0JY_KXb"
    "URL8qQBJA7xpZiA8vXYrlpPpd4yfHJTfhQA"
)

# Section 5.1: the input claims; the issuer-signed JWT adds iss, iat, exp and cnf in clear.
RFC_CNF = {
    "jwk": {
        "kty": "EC",
        "crv": "P-256",
        "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
        "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
    }
}
RFC_CLAIMS = {
    "sub": "user_42",
    "given_name": "John",
    "family_name": "Doe",
    "email": "johndoe@example.com",
    "phone_number": "+1-202-555-0101",
    "phone_number_verified": True,
    "address": {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
    "birthdate": "1940-01-01",
    "updated_at": 1570000000,
    "nationalities": ["US", "DE"],
    "iss": "https://issuer.example.com",
    "iat": 1683000000,
    "exp": 1883000000,
    "cnf": RFC_CNF,
}
# Section 5.2: the Processed SD-JWT Payload of the presentation.
RFC_PROCESSED = {
    "iss": "https://issuer.example.com",
    "iat": 1683000000,
    "exp": 1883000000,
    "sub": "user_42",
    "nationalities": ["US"],
    "cnf": RFC_CNF,
    "family_name": "Doe",
    "address": {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
    "given_name": "John",
}


@pytest.mark.parametrize(("salt", "name", "value", "encoded", "digest"), ALL_PAIRS)
def test_disclosure_and_digest_reproduce_the_rfc(
    salt: str, name: str | None, value: Any, encoded: str, digest: str
) -> None:
    made = Disclosure.create(salt, name, value)
    assert made.encoded == encoded
    assert made.digest == digest


@pytest.mark.parametrize(("salt", "name", "value", "encoded", "digest"), ALL_PAIRS)
def test_rfc_disclosures_parse_back(salt: str, name: str | None, value: Any, encoded: str, digest: str) -> None:
    parsed = Disclosure.parse(encoded)
    assert (parsed.salt, parsed.name, parsed.value, parsed.digest) == (salt, name, value, digest)


def test_other_encodings_of_one_claim_parse_alike_but_digest_differently() -> None:
    parsed = [Disclosure.parse(text) for text in MOBIUS_VARIANTS]
    assert {(d.salt, d.name, d.value) for d in parsed} == {MOBIUS[:3]}
    assert len({d.digest for d in parsed} | {MOBIUS[4]}) == 4  # the digest is over the encoded text


def test_the_rfc_issued_sd_jwt_verifies_with_the_rfc_key_into_the_input_claims() -> None:
    verified = sdjwt.verify(RFC_ISSUED, key=RFC_ISSUER_KEY, typ=RFC_TYP, now=WHEN)
    assert verified.claims == RFC_CLAIMS
    assert verified.header == {"alg": "ES256", "typ": "example+sd-jwt"}
    assert verified.withheld == 0
    assert set(verified.disclosed) == {
        ("given_name",),
        ("family_name",),
        ("email",),
        ("phone_number",),
        ("phone_number_verified",),
        ("address",),
        ("birthdate",),
        ("updated_at",),
        ("nationalities", 0),
        ("nationalities", 1),
    }


def test_the_rfc_presentation_with_key_binding_is_refused_clearly() -> None:
    with pytest.raises(SdJwtError, match="key binding"):
        sdjwt.verify(RFC_PRESENTATION_KB, key=RFC_ISSUER_KEY, typ=RFC_TYP, now=WHEN)


def test_the_rfc_presentation_without_its_kb_jwt_processes_into_the_rfc_processed_payload() -> None:
    without_kb = RFC_PRESENTATION_KB[: RFC_PRESENTATION_KB.rindex("~") + 1]
    verified = sdjwt.verify(without_kb, key=RFC_ISSUER_KEY, typ=RFC_TYP, now=WHEN)
    assert verified.claims == RFC_PROCESSED
    assert list(verified.claims) == list(RFC_PROCESSED)  # the RFC's member order too
    assert verified.withheld == 6  # email, phone_number(_verified), birthdate, updated_at, "DE"
    assert set(verified.disclosed) == {("given_name",), ("family_name",), ("address",), ("nationalities", 0)}


def test_the_rfc_example_is_refused_under_another_typ_another_key_or_a_changed_signature() -> None:
    with pytest.raises(SdJwtError, match="typ"):
        sdjwt.verify(RFC_ISSUED, key=RFC_ISSUER_KEY, now=WHEN)
    with pytest.raises(SdJwtError, match="signature"):
        sdjwt.verify(RFC_ISSUED, key=ECKey.generate_key("P-256"), typ=RFC_TYP, now=WHEN)
    jwt, _, rest = RFC_ISSUED.partition("~")
    flipped = jwt[:-3] + ("A" if jwt[-3] != "A" else "B") + jwt[-2:]
    with pytest.raises(SdJwtError):
        sdjwt.verify(flipped + "~" + rest, key=RFC_ISSUER_KEY, typ=RFC_TYP, now=WHEN)


def test_the_rfc_example_expires_at_its_exp() -> None:
    with pytest.raises(SdJwtError, match="expired"):
        sdjwt.verify(RFC_ISSUED, key=RFC_ISSUER_KEY, typ=RFC_TYP, now=datetime(2030, 1, 1, tzinfo=UTC))


# Appendix A.1: a structured SD-JWT with decoy digests, presented with region and country only.
RFC_A1_PRESENTATION = (
    "eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImV4YW1wbGUrc2Qtand0In0.eyJfc2QiOiBbIkM5aW5wNllvUmFFWFI0Mjd6WUpQ"
    "N1FyazFXSF84YmR3T0FfWVVyVW5HUVUiLCAiS3VldDF5QWEwSElRdlluT1ZkNTloY1ZpTzlVZzZKMmtTZnFZUkJlb3d2RSIs"
    "ICJNTWxkT0ZGekIyZDB1bWxtcFRJYUdlcmhXZFVfUHBZZkx2S2hoX2ZfOWFZIiwgIlg2WkFZT0lJMnZQTjQwVjd4RXhad1Z3"
    "ejd5Um1MTmNWd3Q1REw4Ukx2NGciLCAiWTM0em1JbzBRTExPdGRNcFhHd2pCZ0x2cjE3eUVoaFlUMEZHb2ZSLWFJRSIsICJm"
    "eUdwMFdUd3dQdjJKRFFsbjFsU2lhZW9iWnNNV0ExMGJRNTk4OS05RFRzIiwgIm9tbUZBaWNWVDhMR0hDQjB1eXd4N2ZZdW8z"
    "TUhZS08xNWN6LVJaRVlNNVEiLCAiczBCS1lzTFd4UVFlVTh0VmxsdE03TUtzSVJUckVJYTFQa0ptcXhCQmY1VSJdLCAiaXNz"
    "IjogImh0dHBzOi8vaXNzdWVyLmV4YW1wbGUuY29tIiwgImlhdCI6IDE2ODMwMDAwMDAsICJleHAiOiAxODgzMDAwMDAwLCAi"
    "YWRkcmVzcyI6IHsiX3NkIjogWyI2YVVoelloWjdTSjFrVm1hZ1FBTzN1MkVUTjJDQzFhSGhlWnBLbmFGMF9FIiwgIkF6TGxG"
    "b2JrSjJ4aWF1cFJFUHlvSnotOS1OU2xkQjZDZ2pyN2ZVeW9IemciLCAiUHp6Y1Z1MHFiTXVCR1NqdWxmZXd6a2VzRDl6dXRP"
    "RXhuNUVXTndrclEtayIsICJiMkRrdzBqY0lGOXJHZzhfUEY4WmN2bmNXN3p3Wmo1cnlCV3ZYZnJwemVrIiwgImNQWUpISVo4"
    "VnUtZjlDQ3lWdWIyVWZnRWs4anZ2WGV6d0sxcF9KbmVlWFEiLCAiZ2xUM2hyU1U3ZlNXZ3dGNVVEWm1Xd0JUdzMyZ25VbGRJ"
    "aGk4aEdWQ2FWNCIsICJydkpkNmlxNlQ1ZWptc0JNb0d3dU5YaDlxQUFGQVRBY2k0MG9pZEVlVnNBIiwgInVOSG9XWWhYc1po"
    "VkpDTkUyRHF5LXpxdDd0NjlnSkt5NVFhRnY3R3JNWDQiXX0sICJfc2RfYWxnIjogInNoYS0yNTYifQ.oJdAsPFk47txJvbiG"
    "PxFpMHxY3y_-f2RqT_3BqCdb82f2ZI9vuDNQzhwyXHDudbdM6hlseqpyGRRyiky6DXlSA~WyJHMDJOU3JRZmpGWFE3SW8wOX"
    "N5YWpBIiwgInJlZ2lvbiIsICJcdTZlMmZcdTUzM2EiXQ~WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgImNvdW50cnkiLCA"
    "iSlAiXQ~"
)


def test_the_rfc_structured_example_with_decoys_processes_into_the_rfc_payload() -> None:
    verified = sdjwt.verify(RFC_A1_PRESENTATION, key=RFC_ISSUER_KEY, typ=RFC_TYP, now=WHEN)
    assert verified.claims == {
        "iss": "https://issuer.example.com",
        "iat": 1683000000,
        "exp": 1883000000,
        "address": {"region": "港区", "country": "JP"},
    }
    assert verified.disclosed == (("address", "region"), ("address", "country"))
    # top: 6 claims and 2 decoys; address: 2 more claims and 4 decoys
    assert verified.withheld == 14


def test_escaped_unicode_disclosures_of_the_rfc_parse_to_the_same_text() -> None:
    # Appendix A.1 writes non-ASCII as \u escapes; the digest is over the text as written.
    given = Disclosure.parse("WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImdpdmVuX25hbWUiLCAiXHU1OTJhXHU5MGNlIl0")
    assert (given.name, given.value, given.digest) == (
        "given_name",
        "太郎",
        "ommFAicVT8LGHCB0uywx7fYuo3MHYKO15cz-RZEYM5Q",
    )
