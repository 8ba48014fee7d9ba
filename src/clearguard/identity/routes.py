"""Authentication routes under /api/v1/auth (issue 3's contract).

Login steps are public (they are how a token is obtained); everything else needs a bearer token.
Adding a passkey or replacing recovery codes also needs a recent second factor (step-up), so a
stolen access token cannot plant a lasting authenticator.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field

from clearguard.access.policy import require_recent_mfa
from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.models import StrictModel
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, identity_of, require, source_of
from clearguard.identity.sessions import TokenPair

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/auth",
    tags=["auth"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM, 429: _PROBLEM},
)

Secret = Field(min_length=1, max_length=512)
# Any signed-in account acting on its own authenticators and sessions.
SelfPrincipal = Annotated[Principal, require(Perm.SELF)]


class LoginIn(StrictModel):
    username: str = Field(min_length=1, max_length=64)
    # 1024, not 128: an over-long password must answer like a wrong one, not as a validation error.
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(StrictModel):
    mfa_required: Literal[True] = True
    mfa_token: str
    enrolment_required: bool
    methods: list[str]


class MfaTokenIn(StrictModel):
    mfa_token: str = Secret


class MfaCodeIn(StrictModel):
    mfa_token: str = Secret
    code: str = Field(min_length=1, max_length=64)


class EnrollOut(StrictModel):
    otpauth_uri: str
    qr_svg: str


class TokensOut(StrictModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth token type, not a secret
    expires_in: int


class ConfirmOut(TokensOut):
    recovery_codes: list[str]


class RefreshIn(StrictModel):
    refresh_token: str = Secret


class LogoutIn(StrictModel):
    everywhere: bool = False


class CodeIn(StrictModel):
    code: str = Field(min_length=1, max_length=64)


class CredentialIn(StrictModel):
    # The browser's PublicKeyCredential as JSON; verified by the webauthn package.
    credential: dict[str, Any]


class WebAuthnLoginIn(CredentialIn):
    mfa_token: str = Secret


class WebAuthnEnrollIn(WebAuthnLoginIn):
    name: str = Field(default="passkey", min_length=1, max_length=64)


class RegisterIn(CredentialIn):
    name: str = Field(default="passkey", min_length=1, max_length=64)


class RegisteredOut(StrictModel):
    id: int


class RecoveryCodesOut(StrictModel):
    recovery_codes: list[str]


class MeOut(StrictModel):
    username: str
    role: str
    party: str | None
    office: str | None
    mandates: list[str]
    mfa_at: str | None


def _tokens(pair: TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/login", dependencies=[require(Perm.PUBLIC)])
def login(body: LoginIn, request: Request) -> LoginOut:
    step = identity_of(request).login(body.username, body.password, source=source_of(request))
    return LoginOut(mfa_token=step.mfa_token, enrolment_required=step.enrolment_required, methods=list(step.methods))


@router.post("/mfa/totp/enroll", dependencies=[require(Perm.PUBLIC)])
def totp_enroll(body: MfaTokenIn, request: Request) -> EnrollOut:
    enrolment = identity_of(request).totp_enroll(body.mfa_token, source=source_of(request))
    return EnrollOut(otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg)


@router.post("/mfa/totp/confirm", dependencies=[require(Perm.PUBLIC)])
def totp_confirm(body: MfaCodeIn, request: Request) -> ConfirmOut:
    confirmed = identity_of(request).totp_confirm(body.mfa_token, body.code, source=source_of(request))
    pair = confirmed.tokens
    return ConfirmOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        recovery_codes=confirmed.recovery_codes,
    )


@router.post("/mfa/totp", dependencies=[require(Perm.PUBLIC)])
def totp_login(body: MfaCodeIn, request: Request) -> TokensOut:
    return _tokens(identity_of(request).totp_login(body.mfa_token, body.code, source=source_of(request)))


@router.post("/mfa/recovery", dependencies=[require(Perm.PUBLIC)])
def recovery_login(body: MfaCodeIn, request: Request) -> TokensOut:
    return _tokens(identity_of(request).recovery_login(body.mfa_token, body.code, source=source_of(request)))


@router.post("/webauthn/authenticate/options", dependencies=[require(Perm.PUBLIC)])
def webauthn_login_options(body: MfaTokenIn, request: Request) -> dict[str, Any]:
    return identity_of(request).webauthn_login_options(body.mfa_token)


@router.post("/webauthn/authenticate", dependencies=[require(Perm.PUBLIC)])
def webauthn_login(body: WebAuthnLoginIn, request: Request) -> TokensOut:
    pair = identity_of(request).webauthn_login(body.mfa_token, body.credential, source=source_of(request))
    return _tokens(pair)


@router.post("/mfa/webauthn/enroll/options", dependencies=[require(Perm.PUBLIC)])
def webauthn_enroll_options(body: MfaTokenIn, request: Request) -> dict[str, Any]:
    """Passkey as the first second factor (an account without MFA yet), instead of TOTP."""
    return identity_of(request).webauthn_enroll_options(body.mfa_token)


@router.post("/mfa/webauthn/enroll", dependencies=[require(Perm.PUBLIC)])
def webauthn_enroll(body: WebAuthnEnrollIn, request: Request) -> ConfirmOut:
    confirmed = identity_of(request).webauthn_enroll(
        body.mfa_token, body.credential, name=body.name, source=source_of(request)
    )
    pair = confirmed.tokens
    return ConfirmOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        recovery_codes=confirmed.recovery_codes,
    )


@router.post("/refresh", dependencies=[require(Perm.PUBLIC)])
def refresh(body: RefreshIn, request: Request) -> TokensOut:
    return _tokens(identity_of(request).refresh(body.refresh_token, source=source_of(request)))


@router.post("/logout", status_code=204)
def logout(request: Request, principal: SelfPrincipal, body: LogoutIn | None = None) -> Response:
    everywhere = body.everywhere if body else False
    identity_of(request).logout(principal, everywhere=everywhere, source=source_of(request))
    return Response(status_code=204)


@router.get("/me")
def me(request: Request, principal: SelfPrincipal) -> MeOut:
    today = identity_of(request).clock.now().date()
    return MeOut(
        username=principal.username,
        role=principal.role.value,
        party=principal.party_eori,
        office=principal.office,
        mandates=sorted(principal.mandated_parties(today)),
        mfa_at=principal.mfa_at.isoformat() if principal.mfa_at else None,
    )


def _fresh(request: Request, principal: Principal) -> None:
    identity = identity_of(request)
    require_recent_mfa(principal, identity.clock.now(), window_seconds=identity.settings.auth_step_up_seconds)


@router.post("/webauthn/register/options")
def webauthn_register_options(request: Request, principal: SelfPrincipal) -> dict[str, Any]:
    _fresh(request, principal)
    return identity_of(request).webauthn_register_options(principal)


@router.post("/webauthn/register", status_code=201)
def webauthn_register(body: RegisterIn, request: Request, principal: SelfPrincipal) -> RegisteredOut:
    _fresh(request, principal)
    return RegisteredOut(id=identity_of(request).webauthn_register(principal, body.credential, name=body.name))


@router.post("/mfa/recovery-codes")
def new_recovery_codes(request: Request, principal: SelfPrincipal) -> RecoveryCodesOut:
    _fresh(request, principal)
    return RecoveryCodesOut(recovery_codes=identity_of(request).regenerate_recovery_codes(principal))


@router.post("/step-up/totp", status_code=204)
def step_up_totp(body: CodeIn, request: Request, principal: SelfPrincipal) -> Response:
    identity_of(request).step_up_totp(principal, body.code, source=source_of(request))
    return Response(status_code=204)


@router.post("/step-up/webauthn/options")
def step_up_webauthn_options(request: Request, principal: SelfPrincipal) -> dict[str, Any]:
    return identity_of(request).step_up_webauthn_options(principal)


@router.post("/step-up/webauthn", status_code=204)
def step_up_webauthn(body: CredentialIn, request: Request, principal: SelfPrincipal) -> Response:
    identity_of(request).step_up_webauthn(principal, body.credential, source=source_of(request))
    return Response(status_code=204)
