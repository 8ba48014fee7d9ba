"""TLS material and contexts: a local CA and a localhost server certificate for `clearguard init`, an
SSLContext with TLS 1.2 minimum and optional client-certificate (mTLS) verification, and the uvicorn
keyword arguments for `clearguard serve`.

Files under var/keys/tls/: ca.pem (public), ca-key.pem (0600), server.pem (public, chain server+CA),
server-key.pem (0600). Keys are ECDSA P-256.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clearguard.config import Settings
from clearguard.crypto.errors import KeyUnavailable
from clearguard.crypto.keyfiles import check_private, ensure_keys_dir, write_key_file
from clearguard.errors import ConfigurationError

CA_DAYS = 3650
LEAF_DAYS = 397  # the CA/Browser Forum ceiling for server certificates
DEFAULT_NAMES = ("localhost",)
DEFAULT_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path

    @classmethod
    def under(cls, keys_dir: Path) -> TlsFiles:
        tls = keys_dir / "tls"
        return cls(tls / "ca.pem", tls / "ca-key.pem", tls / "server.pem", tls / "server-key.pem")


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ClearGuard"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(common_name: str = "ClearGuard local CA") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _new_key()
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    *,
    dns_names: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    client: bool = False,
    days: int = LEAF_DAYS,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A leaf certificate for a server (DNS/IP names) or, with client=True, a partner client (mTLS)."""
    key = _new_key()
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def init_tls(
    keys_dir: Path, *, dns_names: tuple[str, ...] = DEFAULT_NAMES, ips: tuple[str, ...] = DEFAULT_IPS
) -> list[str]:
    """Create the local CA and the localhost server certificate if missing; one line per item created."""
    files = TlsFiles.under(keys_dir)
    ensure_keys_dir(files.ca_cert.parent)
    created: list[str] = []
    if not files.ca_key.exists():
        ca_cert, ca_key = make_ca()
        write_key_file(files.ca_key, _key_pem(ca_key))
        files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        files.cert.unlink(missing_ok=True)  # a new CA invalidates the old server certificate
        files.key.unlink(missing_ok=True)
        created.append(f"local CA ({files.ca_cert})")
    if not files.key.exists():
        ca_cert, ca_key = load_ca(files)
        cert, key = issue(ca_cert, ca_key, dns_names[0], dns_names=dns_names, ips=ips)
        write_key_file(files.key, _key_pem(key))
        chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
        files.cert.write_bytes(chain)
        created.append(f"server certificate for {', '.join(dns_names + ips)} ({files.cert})")
    return created


def load_ca(files: TlsFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    check_private(files.ca_key)
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyUnavailable(f"{files.ca_key} is not an EC private key")
    return x509.load_pem_x509_certificate(files.ca_cert.read_bytes()), key


def issue_client_files(keys_dir: Path, name: str, out_dir: Path) -> tuple[Path, Path]:
    """A client certificate (for a partner's mTLS) signed by the local CA: (cert.pem, key.pem)."""
    ca_cert, ca_key = load_ca(TlsFiles.under(keys_dir))
    cert, key = issue(ca_cert, ca_key, name, client=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out_dir / f"{name}.pem", out_dir / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.unlink(missing_ok=True)
    write_key_file(key_path, _key_pem(key))
    return cert_path, key_path


def server_context(
    cert: Path, key: Path, *, client_ca: Path | None = None, require_client_cert: bool = False
) -> ssl.SSLContext:
    """Server context: TLS 1.2 minimum, forward-secret AEAD suites only for 1.2; client certificates
    verified against `client_ca` when given (required when `require_client_cert`)."""
    _check_readable(cert)
    check_private(key)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.load_cert_chain(cert, key)
    if require_client_cert and client_ca is None:
        raise ConfigurationError(
            "tls_client_ca_file is required to verify client certificates", field="tls_client_ca_file"
        )
    if client_ca is not None:
        ctx.load_verify_locations(cafile=str(client_ca))
        ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return ctx


def client_context(ca: Path, *, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    return ctx


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise KeyUnavailable(f"TLS file {path} is missing: run `clearguard init` or pass --cert/--key")


def resolve_server_files(settings: Settings, cert: Path | None = None, key: Path | None = None) -> tuple[Path, Path]:
    """--cert/--key win over settings, which win over the local files made by init_tls."""
    local = TlsFiles.under(settings.keys_dir)
    cert = cert or settings.tls_cert_file or local.cert
    key = key or settings.tls_key_file or local.key
    _check_readable(cert)
    _check_readable(key)
    return cert, key


def uvicorn_ssl_kwargs(
    settings: Settings,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    client_ca: Path | None = None,
    require_client_cert: bool | None = None,
) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run / uvicorn.Config to serve HTTPS (TLS 1.2 minimum).

    uvicorn builds its own SSLContext from these; its default minimum is already TLS 1.2 on Python
    3.11 with OpenSSL 3, and ssl_ciphers pins the suites. Checked here first (files present, keys 0600)
    so that a bad setup fails with a one-line cause before the server binds."""
    cert_path, key_path = resolve_server_files(settings, cert, key)
    ca = client_ca or settings.tls_client_ca_file
    required = settings.tls_require_client_cert if require_client_cert is None else require_client_cert
    server_context(cert_path, key_path, client_ca=ca, require_client_cert=required)  # validates everything
    kwargs: dict[str, Any] = {
        "ssl_certfile": str(cert_path),
        "ssl_keyfile": str(key_path),
        "ssl_version": ssl.PROTOCOL_TLS_SERVER,
        "ssl_ciphers": "ECDHE+AESGCM:ECDHE+CHACHA20",
    }
    if ca is not None:
        kwargs["ssl_ca_certs"] = str(ca)
        kwargs["ssl_cert_reqs"] = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
    return kwargs
