"""TLS: local CA and server certificate, TLS 1.2 minimum, mTLS, uvicorn kwargs."""

from __future__ import annotations

import os
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509

from clearguard.config import Settings
from clearguard.crypto import InsecureKeyFile, KeyUnavailable
from clearguard.crypto.tls import (
    TlsFiles,
    client_context,
    init_tls,
    issue_client_files,
    server_context,
    uvicorn_ssl_kwargs,
)


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, host: str = "localhost") -> str:
    """One TLS handshake over a socket pair; returns the negotiated version or raises the client error."""
    left, right = socket.socketpair()
    server_error: list[BaseException] = []

    def serve() -> None:
        try:
            with server.wrap_socket(right, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            server_error.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client.wrap_socket(left, server_hostname=host) as tls:
            version = tls.version() or ""
            tls.sendall(b"x")
            tls.recv(1)  # surfaces a post-handshake alert (TLS 1.3 client-cert refusal)
            return version
    finally:
        thread.join(10)
        right.close()


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    created = init_tls(keys)
    assert len(created) == 2
    return keys


def test_init_tls_files(tls_dir: Path) -> None:
    files = TlsFiles.under(tls_dir)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.ca_key.stat().st_mode) == 0o600
    assert init_tls(tls_dir) == []
    leaf = x509.load_pem_x509_certificates(files.cert.read_bytes())[0]
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]


@pytest.mark.asvs("V12.2.1", "V12.3.2")
def test_https_handshake_verifies_against_local_ca(tls_dir: Path) -> None:
    files = TlsFiles.under(tls_dir)
    server = server_context(files.cert, files.key)
    assert server.minimum_version == ssl.TLSVersion.TLSv1_2
    assert handshake(server, client_context(files.ca_cert)) == "TLSv1.3"
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server, client_context(files.ca_cert), host="example.org")


@pytest.mark.asvs("V12.1.1")
def test_tls_1_1_refused(tls_dir: Path) -> None:
    files = TlsFiles.under(tls_dir)
    client = client_context(files.ca_cert)
    # Security level 0 lets this client offer TLS 1.1, so a refusal can only come from the server.
    client.set_ciphers("DEFAULT:@SECLEVEL=0")
    client.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    client.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        handshake(server_context(files.cert, files.key), client)
    tls12 = client_context(files.ca_cert)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    assert handshake(server_context(files.cert, files.key), tls12) == "TLSv1.2"


@pytest.mark.asvs("V12.1.3")
def test_mutual_tls(tls_dir: Path, tmp_path: Path) -> None:
    files = TlsFiles.under(tls_dir)
    server = server_context(files.cert, files.key, client_ca=files.ca_cert, require_client_cert=True)
    with pytest.raises((ssl.SSLError, OSError)):
        handshake(server, client_context(files.ca_cert))
    cert, key = issue_client_files(tls_dir, "partner-fr", tmp_path / "clients")
    assert handshake(server, client_context(files.ca_cert, cert=cert, key=key)) == "TLSv1.3"
    # A client certificate from another CA is refused.
    other = tmp_path / "other"
    init_tls(other)
    cert2, key2 = issue_client_files(other, "intruder", tmp_path / "clients2")
    with pytest.raises((ssl.SSLError, OSError)):
        handshake(server, client_context(files.ca_cert, cert=cert2, key=key2))


@pytest.mark.asvs("V13.3.2")
def test_readable_server_key_refused(tls_dir: Path) -> None:
    files = TlsFiles.under(tls_dir)
    os.chmod(files.key, 0o644)
    with pytest.raises(InsecureKeyFile):
        server_context(files.cert, files.key)


@pytest.mark.asvs("V12.1.2")
def test_uvicorn_kwargs(tls_dir: Path, tmp_path: Path) -> None:
    settings = Settings(var_dir=tls_dir.parent)
    kwargs = uvicorn_ssl_kwargs(settings)
    assert kwargs["ssl_certfile"] == str(TlsFiles.under(tls_dir).cert)
    config = uvicorn.Config("clearguard:__version__", **kwargs)
    config.load()
    assert config.ssl is not None and config.ssl.minimum_version >= ssl.TLSVersion.TLSv1_2
    mtls = uvicorn_ssl_kwargs(settings, client_ca=TlsFiles.under(tls_dir).ca_cert, require_client_cert=True)
    assert mtls["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    with pytest.raises(KeyUnavailable, match="is missing: run `clearguard init`"):
        uvicorn_ssl_kwargs(Settings(var_dir=tmp_path / "empty"))
