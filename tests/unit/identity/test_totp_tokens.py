from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clearguard.identity import totp
from clearguard.identity.tokens import (
    new_recovery_codes,
    new_token,
    normalize_recovery_code,
    recovery_digest,
)

T0 = datetime(2026, 1, 15, 9, 0, 0, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_rfc6238_vector() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) -> last 6 digits 287082.
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(secret, datetime.fromtimestamp(59, UTC)) == "287082"


@pytest.mark.asvs("V6.5.1", "V6.5.5")
def test_match_step_and_replay() -> None:
    code = totp.code_at(SECRET, T0)
    step = totp.match_step(SECRET, code, T0, last_step=None)
    assert step == totp.time_step(T0)
    assert totp.match_step(SECRET, code, T0, last_step=step) is None
    assert totp.match_step(SECRET, code, T0 + timedelta(seconds=30), last_step=None) == step
    assert totp.match_step(SECRET, code, T0 + timedelta(seconds=60), last_step=None) is None
    assert totp.match_step(SECRET, "12345", T0, last_step=None) is None
    assert totp.match_step(SECRET, "abcdef", T0, last_step=None) is None


@pytest.mark.asvs("V6.5.3")
def test_enrolment_material() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32
    e = totp.enrolment(secret, account="alice", issuer="ClearGuard")
    assert e.otpauth_uri.startswith("otpauth://totp/ClearGuard:alice?secret=" + secret)
    assert "issuer=ClearGuard" in e.otpauth_uri
    assert e.qr_svg.startswith("<svg") and e.qr_svg.rstrip().endswith("</svg>")


@pytest.mark.asvs("V6.5.4", "V7.2.3", "V11.5.1")
def test_tokens_and_recovery_codes() -> None:
    a, b = new_token("cga_"), new_token("cga_")
    assert a != b and a.startswith("cga_") and len(a) == 4 + 43
    codes = new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 29 and c.count("-") == 5 for c in codes)
    assert normalize_recovery_code(codes[0].lower().replace("-", " ")) == codes[0]
    assert recovery_digest(codes[0]) == recovery_digest(codes[0].lower())
    assert recovery_digest(codes[0]) != recovery_digest(codes[1])
