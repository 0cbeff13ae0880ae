"""The SecurityCredential of Reversal, B2C and Transaction Status.

Daraja wants the initiator password encrypted with RSA PKCS#1 v1.5 under
the public key of M-Pesa's X.509 certificate (sandbox and production
differ), then base64 (daraja.md section 6). PKCS#1 v1.5 padding is random,
so every call gives a different credential; any of them is valid.

The only module of the adapter that imports ``cryptography``. Neither the
password nor the credential is ever logged.
"""

from __future__ import annotations

import base64
from os import PathLike

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from payments.daraja.exceptions import DarajaCertificateError, DarajaValidationError

_PEM_MARKER = b"-----BEGIN CERTIFICATE-----"


def security_credential(*, password: str, certificate: bytes) -> str:
    """Return ``base64(RSA-PKCS#1-v1.5(password))`` under ``certificate``.

    ``certificate`` is a PEM or DER X.509 certificate with an RSA key.

    Raises:
        DarajaValidationError: an empty password (field ``password``).
        DarajaCertificateError: not a certificate, or not an RSA key.
    """
    if not isinstance(password, str) or not password:
        raise DarajaValidationError("password", "Give the initiator password.")
    public_key = _certificate(certificate).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise DarajaCertificateError("The M-Pesa certificate has no RSA public key.")
    encrypted = public_key.encrypt(password.encode("utf-8"), padding.PKCS1v15())
    return base64.b64encode(encrypted).decode("ascii")


def load_certificate(path: str | PathLike[str]) -> bytes:
    """Return the bytes of the certificate file at ``path``, checked.

    Raises:
        DarajaCertificateError: no path, an unreadable file, or a file that
            is not a PEM or DER X.509 certificate.
    """
    if not path:
        raise DarajaCertificateError("MPESA_CERTIFICATE_PATH is not set.")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise DarajaCertificateError(
            f"Cannot read the M-Pesa certificate at {path}: {exc.strerror}"
        ) from exc
    _certificate(data, source=str(path))
    return data


def _certificate(data: bytes, *, source: str = "the given bytes") -> x509.Certificate:
    if not isinstance(data, bytes | bytearray) or not data:
        raise DarajaCertificateError(f"No M-Pesa certificate in {source}.")
    try:
        if _PEM_MARKER in data:
            return x509.load_pem_x509_certificate(bytes(data))
        return x509.load_der_x509_certificate(bytes(data))
    except ValueError as exc:
        raise DarajaCertificateError(
            f"{source} is not a PEM or DER X.509 certificate."
        ) from exc
