"""Make the simulator's test key pair (run once; the files are committed).

``python daraja_simulator/keys/make_keys.py`` writes ``simulator-key.pem``
(a 2048-bit RSA private key, unencrypted) and ``simulator-cert.pem`` (a
self-signed X.509 certificate for it). A TEST key pair: it protects
nothing, and it is public in this repository.
"""

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent


def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "daraja-simulator.test"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Haki Yetu (test only)"),
        ]
    )
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * 30))
        .sign(key, hashes.SHA256())
    )
    (HERE / "simulator-key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (HERE / "simulator-cert.pem").write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
    )


if __name__ == "__main__":
    main()
