"""TOTP (RFC 6238) without I/O: enrolment material and verification with replay protection.

Replay is refused by remembering the last accepted time step: a code is accepted only for a step
strictly later than that one, so neither the same code nor an older one in the window works twice.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

PERIOD = 30
DIGITS = 6
# Accept the previous and the next step for clock drift (RFC 6238 section 5.2 recommends at most one).
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 160 bits, RFC 4226's recommended secret length


def time_step(at: datetime) -> int:
    return int(at.timestamp()) // PERIOD


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def enrolment(secret: str, *, account: str, issuer: str) -> Enrolment:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(name=account, issuer_name=issuer)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg)


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).at(at)


def match_step(secret: str, code: str, at: datetime, *, last_step: int | None) -> int | None:
    """The time step the code belongs to, if valid and later than `last_step`; else None."""
    code = code.strip().replace(" ", "")
    # ASCII digits only: str.isdigit() also accepts fullwidth and other scripts' digits, which
    # compare_digest cannot take (a TypeError, once a 500): any other input is just a wrong code.
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    now_step = time_step(at)
    found: int | None = None
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        # Compare every candidate in constant time; keep looping so timing does not reveal which matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found
