"""Create the development CA and a certificate for localhost signed by it, for `make dev`'s HTTPS gateway.

Usage: `python scripts/dev_certs.py [DIRECTORY]` (default `certs/`, which git ignores). Writes there

- `dev-ca.pem`: the CA certificate, the one to trust
  (`curl --cacert certs/dev-ca.pem https://localhost:8443/health`), and `dev-ca-key.pem`, its key;
- `localhost.pem` and `localhost-key.pem`: the gateway's certificate (for localhost, 127.0.0.1 and ::1)
  and key.

Idempotent: files that are still good are left untouched. The certificate is made anew when it is
missing, expires within RENEW_BEFORE, names other hosts or was not issued by the CA; the CA (and the
certificate with it) only when the CA itself is missing, broken or near its end, so a CA you have trusted
stays trusted. Keys are ECDSA P-256, written readable by their owner only. Certificates come from the
`cryptography` library's X.509 builder.
"""

import datetime
import ipaddress
import os
import secrets
import sys
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parent.parent
CA_CERT, CA_KEY = "dev-ca.pem", "dev-ca-key.pem"
CERT, KEY = "localhost.pem", "localhost-key.pem"
DNS_NAMES = ("localhost",)
IP_ADDRESSES = ("127.0.0.1", "::1")
CA_LIFETIME = datetime.timedelta(days=3650)
# Within what clients accept of a certificate from a private CA (825 days).
CERT_LIFETIME = datetime.timedelta(days=397)
RENEW_BEFORE = datetime.timedelta(days=30)
# Tolerates a clock a little behind the one that signed.
BACKDATE = datetime.timedelta(hours=1)


def expected_names() -> set[x509.GeneralName]:
    return {x509.DNSName(name) for name in DNS_NAMES} | {
        x509.IPAddress(ipaddress.ip_address(address)) for address in IP_ADDRESSES
    }


def _public_der(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _load(directory: Path, cert_name: str, key_name: str):
    """(certificate, private key), or None when either is missing or unreadable as PEM."""
    try:
        certificate = x509.load_pem_x509_certificate((directory / cert_name).read_bytes())
        key = serialization.load_pem_private_key((directory / key_name).read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if _public_der(certificate.public_key()) != _public_der(key.public_key()):
        return None
    return certificate, key


def _current(certificate: x509.Certificate, now: datetime.datetime) -> bool:
    return certificate.not_valid_before_utc <= now and certificate.not_valid_after_utc - now > RENEW_BEFORE


def ca_is_good(ca, now: datetime.datetime) -> bool:
    if ca is None or not _current(ca[0], now):
        return False
    try:
        constraints = ca[0].extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def cert_is_good(leaf, ca_certificate: x509.Certificate, now: datetime.datetime) -> bool:
    if leaf is None or not _current(leaf[0], now):
        return False
    try:
        leaf[0].verify_directly_issued_by(ca_certificate)
        names = leaf[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return set(names) == expected_names()


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(now: datetime.datetime):
    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Task Manager development"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Task Manager development CA {secrets.token_hex(4)}"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def make_cert(ca, now: datetime.datetime):
    ca_certificate, ca_key = ca
    key = _new_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DNS_NAMES[0])]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + CERT_LIFETIME, ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sorted(expected_names(), key=str)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


def _write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` at once (a reader never sees half a file), created with `mode`."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _save(directory: Path, cert_name: str, key_name: str, pair) -> None:
    certificate, key = pair
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(directory / key_name, pem_key, 0o600)
    _write(directory / cert_name, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def ensure(directory: Path, now: datetime.datetime | None = None) -> list[str]:
    """Make the files good; return the names of those written (none when all were good already)."""
    now = now or datetime.datetime.now(datetime.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    ca = _load(directory, CA_CERT, CA_KEY)
    if not ca_is_good(ca, now):
        ca = make_ca(now)
        _save(directory, CA_CERT, CA_KEY, ca)
        written += [CA_CERT, CA_KEY]
    if not cert_is_good(_load(directory, CERT, KEY), ca[0], now):
        _save(directory, CERT, KEY, make_cert(ca, now))
        written += [CERT, KEY]
    return written


def main(arguments: list[str]) -> int:
    directory = Path(arguments[0]) if arguments else ROOT / "certs"
    written = ensure(directory)
    if not written:
        print(f"dev certificates in {directory}: up to date")
    else:
        print(f"dev certificates in {directory}: wrote {', '.join(written)}")
        if CA_CERT in written:
            print(f"a new development CA: trust {directory / CA_CERT} (e.g. curl --cacert {directory / CA_CERT})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
