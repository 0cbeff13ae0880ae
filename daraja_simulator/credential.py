"""The SecurityCredential, checked as M-Pesa checks it.

The initiator password arrives encrypted with RSA PKCS#1 v1.5 under the
public key of M-Pesa's certificate, base64-encoded (daraja.md section 6).
The simulator ships its own test key pair (``keys/``, a public test key)
and decrypts with the private key. The only simulator module that imports
``cryptography``.
"""

import base64
import binascii
import hmac
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEYS_DIR = Path(__file__).resolve().parent / "keys"
PRIVATE_KEY_PATH = KEYS_DIR / "simulator-key.pem"
CERTIFICATE_PATH = KEYS_DIR / "simulator-cert.pem"


@lru_cache(maxsize=4)
def _private_key(path: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} holds no RSA private key")
    return key


def decrypt_credential(credential: object, *, key_path: str = "") -> str | None:
    """The password inside ``credential``, or None if it is not one of ours
    (not base64, encrypted under another key, or garbled)."""
    if not isinstance(credential, str) or not credential:
        return None
    try:
        encrypted = base64.b64decode(credential, validate=True)
    except (binascii.Error, ValueError):
        return None
    key = _private_key(key_path or str(PRIVATE_KEY_PATH))
    try:
        plain = key.decrypt(encrypted, padding.PKCS1v15())
    except ValueError:
        return None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return None


def credential_matches(
    credential: object, password: str, *, key_path: str = ""
) -> bool:
    """Whether ``credential`` decrypts to ``password``."""
    plain = decrypt_credential(credential, key_path=key_path)
    return plain is not None and hmac.compare_digest(
        plain.encode("utf-8"), password.encode("utf-8")
    )


def encrypt_password(password: str) -> str:
    """A credential for ``password`` under the shipped certificate (for
    tests and scripts that call the simulator without our client)."""
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(CERTIFICATE_PATH.read_bytes())
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("the shipped certificate holds no RSA key")
    encrypted = public_key.encrypt(password.encode("utf-8"), padding.PKCS1v15())
    return base64.b64encode(encrypted).decode("ascii")
