"""The SecurityCredential: RSA PKCS#1 v1.5 under M-Pesa's certificate,
checked by decrypting with the simulator's private key."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured

from daraja_simulator.credential import CERTIFICATE_PATH, decrypt_credential
from payments.daraja.exceptions import DarajaCertificateError, DarajaValidationError
from payments.daraja.security import load_certificate, security_credential

PASSWORD = "Safaricom999!*!"


def _pem() -> bytes:
    return CERTIFICATE_PATH.read_bytes()


def _der() -> bytes:
    certificate = x509.load_pem_x509_certificate(_pem())
    return certificate.public_bytes(serialization.Encoding.DER)


def test_security_credential_decrypts_to_the_password():
    # when the password is encrypted under the simulator's certificate
    credential = security_credential(password=PASSWORD, certificate=_pem())

    # then its private key gives the password back
    assert decrypt_credential(credential) == PASSWORD


def test_security_credential_takes_a_der_certificate():
    # given the same certificate in DER (Safaricom ships .cer files)
    credential = security_credential(password=PASSWORD, certificate=_der())

    # then it works the same
    assert decrypt_credential(credential) == PASSWORD


def test_security_credential_is_fresh_per_call():
    # when the same password is encrypted twice
    first = security_credential(password=PASSWORD, certificate=_pem())
    second = security_credential(password=PASSWORD, certificate=_pem())

    # then the credentials differ (random padding) and both are valid
    assert first != second
    assert decrypt_credential(second) == PASSWORD


def test_security_credential_refuses_an_empty_password():
    with pytest.raises(DarajaValidationError) as caught:
        security_credential(password="", certificate=_pem())
    assert caught.value.field == "password"


def test_security_credential_refuses_garbled_certificate_bytes():
    # when the certificate is not one
    with pytest.raises(DarajaCertificateError) as caught:
        security_credential(
            password=PASSWORD, certificate=b"-----BEGIN CERTIFICATE-----\nxx"
        )

    # then the error is both "nothing sent" and "fix the settings"
    assert isinstance(caught.value, DarajaValidationError)
    assert isinstance(caught.value, ImproperlyConfigured)


def test_security_credential_refuses_a_certificate_without_an_rsa_key():
    # given a certificate with an elliptic-curve key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec.test")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )

    # then it is refused
    with pytest.raises(DarajaCertificateError, match="RSA"):
        security_credential(password=PASSWORD, certificate=certificate)


def test_load_certificate_reads_a_certificate_file():
    assert load_certificate(str(CERTIFICATE_PATH)) == _pem()


def test_load_certificate_names_a_missing_file(tmp_path):
    missing = tmp_path / "nope.cer"
    with pytest.raises(DarajaCertificateError, match="nope.cer"):
        load_certificate(missing)


def test_load_certificate_refuses_a_garbled_file(tmp_path):
    path = tmp_path / "garbled.cer"
    path.write_bytes(b"\x00\x01 not a certificate")
    with pytest.raises(DarajaCertificateError, match="not a PEM or DER"):
        load_certificate(path)


def test_load_certificate_refuses_no_path():
    with pytest.raises(DarajaCertificateError, match="MPESA_CERTIFICATE_PATH"):
        load_certificate("")
