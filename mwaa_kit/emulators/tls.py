"""The kit's TLS: a CA generated once per state folder, and server certificates it signs
for loopback. Clients that hard-code https (simple-salesforce, the Amazon provider's
MwaaHook, MWAA's documented curl) then reach the local emulators over a verified
connection by trusting the CA (REQUESTS_CA_BUNDLE, AWS_CA_BUNDLE, curl --cacert); nothing
is added to the system's trust store. Used by the Salesforce stub and the MWAA web server
origin."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

CA_FILE = "ca.pem"
_CA_KEY_FILE = "ca-key.pem"


def distinguished_name(common_name: str) -> x509.Name:
    """The subject of a certificate the kit makes: organisation mwaa-kit, `common_name`."""
    return x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "mwaa-kit"),
                      x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_ca(state_dir: Path, common_name: str = "mwaa-kit local CA") -> Path:
    """state_dir/ca.pem, the CA clients trust, made once (its key beside it, 0600) and kept,
    so a restarted server's new certificate is still trusted."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ca_path, ca_key_path = state_dir / CA_FILE, state_dir / _CA_KEY_FILE
    if ca_path.exists():
        return ca_path
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = distinguished_name(common_name)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(key, hashes.SHA256()))
    ca_key_path.write_bytes(_pem_key(key))
    ca_key_path.chmod(0o600)
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca_path


def ensure_certificates(state_dir: Path, hostnames: tuple[str, ...] = (),
                        ca_name: str = "mwaa-kit local CA") -> tuple[Path, Path]:
    """(server certificate chain, server key) for localhost, 127.0.0.1 and `hostnames`,
    signed by state_dir's CA (`ensure_ca`); a new server certificate at every call."""
    ca_path = ensure_ca(state_dir, ca_name)
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    ca_key = serialization.load_pem_private_key((state_dir / _CA_KEY_FILE).read_bytes(), None)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    names += [x509.DNSName(h) for h in hostnames]
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(distinguished_name("localhost"))
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
