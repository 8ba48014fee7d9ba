"""WebAuthn passkeys through the `webauthn` package: options out, verification in; no storage here.

The server keeps the challenge it issued (on the MFA challenge or the session) and passes it back to
the verify functions, which check challenge, origin, RP id, user presence and the signature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import webauthn
from webauthn.helpers import options_to_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from clearguard.identity.errors import InvalidMfa


@dataclass(frozen=True, slots=True)
class RelyingParty:
    rp_id: str
    name: str
    origins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int


def registration_options(
    rp: RelyingParty, *, username: str, user_handle: bytes, existing: list[bytes]
) -> tuple[dict[str, Any], bytes]:
    """(options as JSON-ready dict, challenge to remember)."""
    options = webauthn.generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_name=username,
        user_id=user_handle,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in existing],
    )
    return json.loads(options_to_json(options)), options.challenge


def verify_registration(rp: RelyingParty, credential: dict[str, Any], challenge: bytes) -> NewCredential:
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise InvalidMfa(f"webauthn registration refused: {exc}") from None
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )


def authentication_options(rp: RelyingParty, allowed: list[bytes]) -> tuple[dict[str, Any], bytes]:
    options = webauthn.generate_authentication_options(
        rp_id=rp.rp_id,
        allow_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in allowed],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return json.loads(options_to_json(options)), options.challenge


def credential_id_of(credential: dict[str, Any]) -> bytes:
    try:
        return webauthn.base64url_to_bytes(str(credential["rawId"]))
    except (KeyError, ValueError, TypeError):
        raise InvalidMfa("webauthn assertion refused: missing or malformed rawId") from None


def verify_authentication(
    rp: RelyingParty, credential: dict[str, Any], challenge: bytes, *, public_key: bytes, sign_count: int
) -> int:
    """The authenticator's new signature counter, after checking the assertion."""
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise InvalidMfa(f"webauthn assertion refused: {exc}") from None
    return int(verified.new_sign_count)
