"""The portal's session cookie and CSRF tokens.

A portal session IS an identity session: the cookie carries its access and refresh tokens, so
revocation (sign-out, `detection` revoking a user's sessions, a disabled account) ends the portal
session on the next request, exactly as it ends API access. The idle timeout is the access token's
lifetime (`auth_access_token_seconds`, 15 minutes), enforced server-side by the token's expiry:
activity renews the pair at most once a minute by refresh-token rotation; a session left alone for
longer than the access lifetime cannot be renewed (the guard never refreshes an expired access token).

CSRF: synchronizer tokens bound to the identity session (or, before sign-in, to a random pre-session
cookie): HMAC-SHA256 over the binding with a server key, so every worker derives the same token and
none need to be stored. SameSite=Strict cookies are the second line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from clearguard.access.principal import Principal
from clearguard.config import Settings
from clearguard.identity import IdentityService, InvalidToken

COOKIE = "__Host-cg_session"
# Between the password and the second factor: the identity service's short-lived MFA token.
MFA_COOKIE = "__Host-cg_mfa"
# Before sign-in: what the sign-in forms' CSRF tokens are bound to.
PRE_COOKIE = "__Host-cg_pre"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
RENEW_AFTER_S = 60
_KEY_FILE = "portal-csrf.key"


@dataclass(frozen=True, slots=True)
class Tokens:
    access: str
    refresh: str
    issued: int  # unix seconds; only decides when to renew (the server's expiry decides validity)

    def encode(self) -> str:
        return f"{self.access}.{self.refresh}.{self.issued}"

    @classmethod
    def decode(cls, value: str | None) -> Tokens | None:
        if not value or len(value) > 512:
            return None
        parts = value.split(".")
        if len(parts) != 3 or not parts[2].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]))


class PortalSessions:
    """Cookie -> principal, renewing the token pair on activity."""

    def __init__(self, identity: IdentityService, *, renew_after_s: int = RENEW_AFTER_S) -> None:
        self.identity = identity
        self.renew_after_s = renew_after_s
        self._lock = threading.Lock()
        # Concurrent requests of one page carry the same cookie: the first renews, the others reuse
        # its result, instead of presenting the rotated refresh token again (which the identity
        # service treats as theft and answers by revoking the session).
        self._renewed: dict[str, tuple[Tokens, float]] = {}

    def resolve(self, cookie: str | None, *, source: str) -> tuple[Principal, Tokens | None]:
        """The principal and, when renewed, the new tokens to set; InvalidToken when signed out,
        idle too long, revoked or expired."""
        tokens = Tokens.decode(cookie)
        if tokens is None:
            raise InvalidToken("no portal session")
        principal = self.identity.authenticate(tokens.access)
        now = self.identity.clock.now().timestamp()
        if now - tokens.issued < self.renew_after_s:
            return principal, None
        key = hashlib.sha256(tokens.refresh.encode()).hexdigest()
        with self._lock:
            done = self._renewed.get(key)
            if done is None:
                pair = self.identity.refresh(tokens.refresh, source=source)
                done = (Tokens(pair.access_token, pair.refresh_token, int(now)), now)
                self._renewed[key] = done
            for stale in [k for k, (_, at) in self._renewed.items() if now - at > 2 * self.renew_after_s]:
                del self._renewed[stale]
        return principal, done[0]


class Csrf:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Csrf:
        secret = settings.secret_key.get_secret_value() if settings.secret_key is not None else ""
        if secret:
            return cls(hmac.new(secret.encode(), b"clearguard portal csrf", hashlib.sha256).digest())
        return cls(_key_file(settings.keys_dir / _KEY_FILE))

    def token(self, binding: str) -> str:
        mac = hmac.new(self._key, b"csrf\0" + binding.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def valid(self, binding: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.token(binding), presented or "")


def session_binding(principal: Principal) -> str:
    return f"s:{principal.session_id}"


def pre_binding(pre_cookie: str) -> str:
    return f"p:{pre_cookie}"


def new_pre_cookie() -> str:
    return secrets.token_urlsafe(24)


def _key_file(path: Path) -> bytes:
    """Without a configured secret (development), a random key kept under var/keys (mode 0600),
    shared by every worker of the instance."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) == 32:
            return key
        raise
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    return path.read_bytes()
