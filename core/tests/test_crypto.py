"""core.crypto: Fernet at rest, rotation, the phone index; core.fields."""

import hashlib

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured

from core import crypto

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    settings.FIELD_HASH_KEY = "hash-key-for-tests"
    return settings


def test_text_round_trips_and_is_not_stored_in_plaintext(keys):
    # given / when
    stored = crypto.encrypt_text("254708374149")
    # then
    assert stored.startswith(crypto.PREFIX)
    assert "254708374149" not in stored
    assert crypto.decrypt_text(stored) == "254708374149"


def test_each_encryption_differs_so_values_cannot_be_compared(keys):
    assert crypto.encrypt_text("254708374149") != crypto.encrypt_text("254708374149")


def test_empty_stays_empty_and_plaintext_is_read_as_is(keys):
    assert crypto.encrypt_text("") == ""
    assert crypto.decrypt_text("") == ""
    assert crypto.decrypt_text("254708374149") == "254708374149"


def test_the_first_key_encrypts_and_every_key_decrypts(keys):
    # given: a value written under the old key
    stored = crypto.encrypt_text("2547 ***** 149")
    keys.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # when
    rewritten = crypto.reencrypt_text(stored)
    # then
    assert crypto.needs_rewrite(stored)
    assert not crypto.needs_rewrite(rewritten)
    keys.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.decrypt_text(rewritten) == "2547 ***** 149"
    with pytest.raises(crypto.UndecryptableValue):
        crypto.decrypt_text(stored)


def test_plaintext_needs_rewriting_and_empty_does_not(keys):
    assert crypto.needs_rewrite("254708374149")
    assert not crypto.needs_rewrite("")
    assert not crypto.needs_rewrite(None)


def test_missing_or_bad_keys_are_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        crypto.encrypt_text("x")
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.encrypt_text("x")
    settings.FIELD_HASH_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="FIELD_HASH_KEY"):
        crypto.phone_index("0708374149")


@pytest.mark.parametrize(
    "spelling", ["0708374149", "+254708374149", "254 708 374 149", "708374149"]
)
def test_the_phone_index_is_the_same_in_every_spelling(keys, spelling):
    assert crypto.phone_index(spelling) == crypto.phone_index("254708374149")
    assert len(crypto.phone_index(spelling)) == 64


def test_the_phone_index_depends_on_the_hash_key(keys):
    before = crypto.phone_index("0708374149")
    keys.FIELD_HASH_KEY = "another-key"
    assert crypto.phone_index("0708374149") != before


@pytest.mark.parametrize("value", ["", None, "2547 ***** 149", "not a phone"])
def test_no_index_for_what_is_no_full_number(keys, value):
    assert crypto.phone_index(value) == ""


def test_a_sha256_payer_is_indexed_as_its_number_computes_it(keys):
    # given: C2B v1 gives the SHA-256 hex of the number
    digest = hashlib.sha256(b"254708374149").hexdigest()
    # when / then: upper or lower case, the search's index finds it
    assert crypto.payer_phone_index(digest.upper()) in crypto.phone_search_indexes(
        "254708374149"
    )
    assert crypto.payer_phone_index("254708374149") in crypto.phone_search_indexes(
        "254708374149"
    )


def test_masked_keys_hold_only_the_digits_mpesa_shows(keys):
    assert crypto.display_masked_key("0708374149") == "2547*149"
    assert crypto.visible_masked_key("2547 ***** 149") == "2547*149"
    assert crypto.visible_masked_key("0708****149") == "254708*149"
    assert crypto.visible_masked_key("254708374149") == ""


@pytest.mark.django_db
def test_filtering_on_an_encrypted_field_fails_loudly(keys):
    from payments.models import Payment

    with pytest.raises(FieldError, match="encrypted"):
        list(Payment.objects.filter(phone_number="254708374149"))
    with pytest.raises(FieldError, match="encrypted"):
        list(Payment.objects.filter(phone_number__startswith="2547"))
    # isnull and the empty string stay allowed
    assert not Payment.objects.filter(paid_phone_number="").exists()
