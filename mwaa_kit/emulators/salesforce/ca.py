"""The stub's certificates: its TLS server certificate, from the kit's CA (emulators/tls.py:
simple-salesforce only speaks https, so clients trust the CA through REQUESTS_CA_BUNDLE),
and a default connected app's key pair for the JWT bearer flow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mwaa_kit.emulators import tls


def ensure_certificates(state_dir: Path, hostnames: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """(server certificate chain, server key); the CA is state_dir/ca.pem."""
    return tls.ensure_certificates(state_dir, hostnames, "mwaa-kit Salesforce stub CA")


def ensure_jwt_keypair(state_dir: Path) -> tuple[Path, Path]:
    """(certificate, private key) of a default connected app for the JWT bearer flow:
    state_dir/jwt-cert.pem is what the stub verifies assertions against (unless
    `serve --jwt-cert` names another), state_dir/jwt-key.pem is what a client signs with
    (simple-salesforce's `privatekey_file`). Made once, then reused."""
    state_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = state_dir / "jwt-cert.pem", state_dir / "jwt-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    now = datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = tls.distinguished_name("mwaa-kit connected app")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
