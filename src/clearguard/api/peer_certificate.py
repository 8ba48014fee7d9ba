"""The TLS client certificate of a connection, handed to the application as the ASGI TLS extension.

uvicorn verifies a client certificate in the handshake (ssl_ca_certs, ssl_cert_reqs) but does not
put it in the request's scope. This HTTP/1.1 protocol does, per connection: the scope of every
request on a TLS connection whose client presented a (verified) certificate carries
`scope["extensions"]["tls"]["client_cert_chain"] = [PEM]`, as the ASGI TLS extension specifies.
`clearguard serve` and the tests run uvicorn with `http=PeerCertificateH11Protocol`.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from clearguard.config import Settings

ASGIApp = Any


def _with_certificate(app: ASGIApp, pem: str) -> ASGIApp:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            extensions = dict(scope.get("extensions") or {})
            extensions["tls"] = {"client_cert_chain": [pem], "tls_used": True}
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return wrapped


class PeerCertificateH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if isinstance(ssl_object, ssl.SSLObject) else None
        if der:
            self.app = _with_certificate(self.app, ssl.DER_cert_to_PEM_cert(der))


def client_certificate(scope: Mapping[str, Any]) -> str | None:
    """The PEM of the verified client certificate of the request's connection, if any."""
    chain = ((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_chain") or []
    return str(chain[0]) if chain else None


def partner_tls_kwargs(partner_cas: bytes, keys_dir: Path, settings: Settings) -> dict[str, Any]:
    """uvicorn keyword arguments so that the handshake verifies client certificates against the
    registered partners' CAs (and the operator's client CA, if set): a client presenting any other
    certificate is refused in the handshake; one presenting none still reaches the other routes.
    Partners added later are trusted after a restart."""
    bundle = partner_cas
    if settings.tls_client_ca_file is not None:
        bundle = settings.tls_client_ca_file.read_bytes() + b"\n" + bundle
    if not bundle.strip():
        return {"http": PeerCertificateH11Protocol}
    path = keys_dir / "tls" / "client-cas.pem"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(bundle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return {
        "http": PeerCertificateH11Protocol,
        "ssl_ca_certs": str(path),
        "ssl_cert_reqs": ssl.CERT_REQUIRED if settings.tls_require_client_cert else ssl.CERT_OPTIONAL,
    }
