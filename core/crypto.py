"""Personal data at rest: Fernet encryption and blind phone indexes.

``FIELD_ENCRYPTION_KEYS`` lists Fernet keys, the first of which encrypts
and all of which decrypt (``MultiFernet``), so a new key is put first and
``manage.py rotate_field_keys`` rewrites every stored value with it. A
stored value carries ``fernet:`` in front, so a plaintext row written before
encryption (or by a migration still to run) is recognised and read as is.

Ciphertext cannot be searched (every encryption has a fresh IV), so phone
numbers are found through ``phone_index``: the HMAC-SHA256, keyed by
``FIELD_HASH_KEY``, of the number normalised by ``core.phone``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.phone import InvalidPhoneNumber, masked_phone_digits, normalise_phone

PREFIX = "fernet:"
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class UndecryptableValue(ImproperlyConfigured):
    """A stored value none of ``FIELD_ENCRYPTION_KEYS`` decrypts (a key
    was removed too early, or the value was damaged)."""


def is_encrypted(stored: str | None) -> bool:
    """Whether ``stored`` is ciphertext written by ``encrypt_text``."""
    return bool(stored) and stored.startswith(PREFIX)


def encrypt_text(value: str) -> str:
    """``value`` encrypted with the first key; ``""`` stays ``""``."""
    if value == "":
        return ""
    token = _fernet().encrypt(value.encode("utf-8"))
    return PREFIX + token.decode("ascii")


def decrypt_text(stored: str) -> str:
    """The text of a stored value; plaintext (no prefix) is returned as is.

    Raises:
        UndecryptableValue: no configured key decrypts it.
    """
    if not is_encrypted(stored):
        return stored
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise UndecryptableValue(
            "A stored value does not decrypt with any FIELD_ENCRYPTION_KEYS key."
        ) from exc


def needs_rewrite(stored: str | None) -> bool:
    """Whether ``stored`` is plaintext or ciphertext of a key other than
    the first (what the encrypting migration and the rotation rewrite)."""
    if not stored:
        return False
    if not is_encrypted(stored):
        return True
    try:
        _first_key().decrypt(stored[len(PREFIX) :].encode("ascii"))
    except InvalidToken:
        return True
    return False


def reencrypt_text(stored: str) -> str:
    """``stored`` (plaintext or ciphertext) encrypted with the first key."""
    return encrypt_text(decrypt_text(stored))


def phone_index(value: str | None) -> str:
    """HMAC-SHA256 hex of the normalised number; ``""`` for empty or
    unparseable values (a masked or hashed number has no index)."""
    if not value:
        return ""
    try:
        phone = normalise_phone(value)
    except InvalidPhoneNumber:
        return ""
    return _hmac("phone:" + phone)


def sha256_phone_index(value: str) -> str:
    """The index of a number M-Pesa gave only as its SHA-256 hex (C2B v1):
    HMAC of the lower-case digest. ``""`` unless ``value`` is such a digest.
    A search computes it from ``hashlib.sha256(number)`` at query time."""
    value = value.strip()
    if not _SHA256_HEX.fullmatch(value):
        return ""
    return _hmac("sha256:" + value.lower())


def payer_phone_index(value: str | None) -> str:
    """The index of a payer as Daraja gave it: a full number, or its
    SHA-256 hex; ``""`` for a masked or unreadable one."""
    if not value:
        return ""
    return phone_index(value) or sha256_phone_index(value)


def phone_search_indexes(phone: str) -> list[str]:
    """Every index a stored payer of ``phone`` (normalised) may have."""
    digest = hashlib.sha256(phone.encode()).hexdigest()
    return [phone_index(phone), sha256_phone_index(digest)]


def masked_key(head: str, tail: str) -> str:
    """The non-secret form of the visible digits: ``2547*126``."""
    return f"{head}*{tail}"


def display_masked_key(value: str | None) -> str:
    """A full number's digits as M-Pesa shows a masked one (first four,
    last three: ``2547*126``); ``""`` unless ``value`` is a full number."""
    if not value:
        return ""
    try:
        phone = normalise_phone(value)
    except InvalidPhoneNumber:
        return ""
    return masked_key(phone[:4], phone[-3:])


def visible_masked_key(value: str | None) -> str:
    """A masked number's visible digits (``2547 ***** 126`` gives
    ``2547*126``); ``""`` for a full, hashed or unreadable value."""
    if not value or "*" not in value:
        return ""
    visible = masked_phone_digits(value)
    return masked_key(*visible) if visible else ""


def is_fernet_key(key: str) -> bool:
    """Whether ``key`` is a usable Fernet key (the deploy check)."""
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def _hmac(text: str) -> str:
    key = settings.FIELD_HASH_KEY
    if not key:
        raise ImproperlyConfigured("Set FIELD_HASH_KEY (docs/personal-data.md).")
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _fernet() -> MultiFernet:
    return _fernets(tuple(settings.FIELD_ENCRYPTION_KEYS))


def _first_key() -> Fernet:
    _fernet()  # the same errors for no key or a bad one
    return _single(settings.FIELD_ENCRYPTION_KEYS[0])


@lru_cache(maxsize=4)
def _single(key: str) -> Fernet:
    return Fernet(key)


@lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS (docs/personal-data.md).")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key."
        ) from exc
