"""A self-signed certificate for the sandbox's HTTPS listeners (services with `tls = True`).

Real Azure clients refuse plain HTTP: MSAL rejects a non-https authority and the management clients
refuse to send a bearer token over HTTP. So the Azure emulator is served over TLS with a certificate made
here at start-up: EC P-256 (cheap to generate), SAN `127.0.0.1` + `localhost` (+ the bound host), and
`BasicConstraints(ca=True)` with `keyCertSign` so that the same PEM works as the trust anchor that
`requests`/azure-core (`connection_verify=`) and httpx (`verify=`) are given.

Validity is computed from the wall clock, never from the `SandboxClock`: TLS clients check it against
their own real time, so a sandbox frozen in 2026 must still hand out a certificate valid today.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "ca.pem"
KEY_FILE = "key.pem"
DEFAULT_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost")
VALID_DAYS = 365
#: A reused certificate must stay valid at least this long, or a fresh one is made.
MIN_REMAINING = timedelta(days=1)


@dataclass(frozen=True)
class TlsFiles:
    """Where a listener's certificate and key live; `cert` is also the CA bundle clients trust."""

    cert: Path
    key: Path


def certificate_hosts(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The default SAN hosts plus `extra` (the listener's host), without duplicates or wildcards."""
    hosts = list(DEFAULT_HOSTS)
    for host in extra:
        if host and host not in hosts and host not in ("0.0.0.0", "::"):
            hosts.append(host)
    return tuple(hosts)


def make_certificate(
    hosts: Iterable[str] = DEFAULT_HOSTS, *, now: datetime | None = None
) -> tuple[bytes, bytes]:
    """(certificate PEM, unencrypted PKCS#8 key PEM) of a fresh self-signed CA/server certificate."""
    names = list(hosts)
    key = ec.generate_private_key(ec.SECP256R1())
    start = (now or datetime.now(UTC)) - timedelta(days=1)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ppm-sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "localhost"),
        ]
    )
    alt_names: list[x509.GeneralName] = []
    for host in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        # A trust anchor: OpenSSL accepts a self-signed leaf as CA file only if it may sign certificates.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        # Python 3.13's default context is X509-strict and wants an AKI even on a self-signed certificate.
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _reusable(files: TlsFiles, hosts: Iterable[str]) -> bool:
    """An existing pair is kept when it parses, covers `hosts` and stays valid for a while."""
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    covered = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} | set(
        san.get_values_for_type(x509.DNSName)
    )
    now = datetime.now(UTC)
    return (
        set(hosts) <= covered and cert.not_valid_before_utc <= now < cert.not_valid_after_utc - MIN_REMAINING
    )


def ensure_certificate(directory: Path, hosts: Iterable[str] = DEFAULT_HOSTS) -> TlsFiles:
    """The certificate and key in `directory`: reused when still good (a stable trust anchor across
    restarts, e.g. `--tls-dir ~/.ppm-sandbox`), otherwise made and written (key readable by the owner only)."""
    wanted = certificate_hosts(hosts)
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(cert=directory / CERT_FILE, key=directory / KEY_FILE)
    if _reusable(files, wanted):
        return files
    cert_pem, key_pem = make_certificate(wanted)
    files.key.write_bytes(key_pem)
    files.key.chmod(0o600)
    files.cert.write_bytes(cert_pem)
    return files
