"""The stub's TLS: a CA the kit generates once per state dir, and a server certificate
it signs. simple-salesforce only speaks https, so clients trust the CA through
REQUESTS_CA_BUNDLE; nothing is added to the system's trust store."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mwaa-kit"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_certificates(state_dir: Path, hostnames: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """(server certificate chain, server key); the CA is state_dir/ca.pem."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ca_path, ca_key_path = state_dir / "ca.pem", state_dir / "ca-key.pem"
    now = datetime.now(UTC)
    if not ca_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        ca = (x509.CertificateBuilder().subject_name(_name("mwaa-kit Salesforce stub CA"))
              .issuer_name(_name("mwaa-kit Salesforce stub CA")).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(days=1))
              .not_valid_after(now + timedelta(days=3650))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                           False), critical=True)
              .sign(key, hashes.SHA256()))
        ca_key_path.write_bytes(_pem_key(key))
        ca_key_path.chmod(0o600)
        ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    names += [x509.DNSName(h) for h in hostnames]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("localhost"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = state_dir / "server.pem", state_dir / "server-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                          + ca.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_pem_key(key))
    key_path.chmod(0o600)
    return cert_path, key_path


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
    name = _name("mwaa-kit connected app")
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
