"""Matching a payer's number as Daraja reported it to our payments, whose
numbers are encrypted (payments/services/payer_phone.py)."""

import hashlib

import pytest

from payments.models import Payment
from payments.services.payer_phone import payer_phone_agrees, payer_phone_filter
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
PHONE = "254708374149"


def _matching(reported: str) -> set[Payment]:
    query = payer_phone_filter(reported)
    if query is None:
        return set()
    candidates = Payment.objects.filter(query)
    return {p for p in candidates if payer_phone_agrees(reported, p.phone_number)}


@pytest.mark.parametrize("reported", [PHONE, "0708374149", "2547 ***** 149"])
def test_a_full_or_masked_number_finds_its_payment(reported):
    wanted = PaymentFactory(phone_number=PHONE)
    PaymentFactory(phone_number="254712345678")
    assert _matching(reported) == {wanted}


def test_a_mask_showing_more_digits_tells_two_numbers_apart():
    # given: the same first four and last three digits
    wanted = PaymentFactory(phone_number=PHONE)
    PaymentFactory(phone_number="254711111149")
    # when / then
    assert _matching("254708****149") == {wanted}
    assert len(_matching("2547*****149")) == 2


def test_a_hashed_number_never_matches():
    PaymentFactory(phone_number=PHONE)
    assert _matching(hashlib.sha256(PHONE.encode()).hexdigest()) == set()
