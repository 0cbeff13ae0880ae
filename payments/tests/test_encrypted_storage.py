"""Phone numbers and Daraja's bodies are ciphertext in the database, read
back as written, and still found by phone (issue 16, point 4)."""

import json

import pytest
from django.db import connection

from accounts.models import ClientProfile
from bookings.tests.factories import UserFactory
from core import crypto
from payments.admin.receipt_search import payer_phone_q
from payments.admin.search import payment_search_q
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import paybill_receipt

pytestmark = pytest.mark.django_db
PHONE = "254708374149"
RAW = '{"Body":{"stkCallback":{"PhoneNumber":254708374149,"Note":"é\\u00e9 "}}}\n'


def _raw_column(table: str, column: str, pk: int):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_payment_phones_are_ciphertext_with_an_index():
    # given / when
    payment = PaymentFactory(phone_number=PHONE, paid_phone_number=PHONE)
    # then
    for column in ("phone_number", "paid_phone_number"):
        stored = _raw_column("payments_payment", column, payment.pk)
        assert stored.startswith("fernet:")
        assert "708374149" not in stored
    fresh = Payment.objects.get(pk=payment.pk)
    assert fresh.phone_number == PHONE
    assert fresh.phone_index == crypto.phone_index(PHONE)
    assert fresh.phone_masked_key == "2547*149"


def test_saving_only_the_phone_keeps_its_index_in_step():
    # given
    payment = PaymentFactory(phone_number=PHONE)
    # when: a service saves with update_fields naming only the number
    payment.paid_phone_number = "0712345678"
    payment.save(update_fields=["paid_phone_number", "updated_at"])
    # then
    fresh = Payment.objects.get(pk=payment.pk)
    assert fresh.paid_phone_index == crypto.phone_index("254712345678")


def test_event_bodies_are_ciphertext_and_the_raw_body_comes_back_exactly():
    # given / when
    event = PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.CALLBACK,
        headers={"X-Forwarded-For": "196.201.214.200"},
        request_body=json.loads(RAW),
        raw_body=RAW,
    )
    # then
    for column in ("headers", "request_body", "raw_body"):
        stored = _raw_column("payments_paymentevent", column, event.pk)
        assert stored.startswith("fernet:")
        assert "254708374149" not in stored
        assert "196.201" not in stored
    fresh = PaymentEvent.objects.get(pk=event.pk)
    assert fresh.raw_body == RAW
    assert fresh.request_body == json.loads(RAW)
    assert fresh.response_body is None


def test_receipt_payers_and_client_profiles_are_ciphertext():
    # given / when
    receipt = paybill_receipt(payer_phone="2547 ***** 149")
    profile = ClientProfile.objects.create(user=UserFactory(), phone_number=PHONE)
    # then
    stored = _raw_column("payments_mpesareceipt", "payer_phone", receipt.pk)
    assert stored.startswith("fernet:")
    assert MpesaReceipt.objects.get(pk=receipt.pk).payer_phone == "2547 ***** 149"
    assert receipt.payer_phone_masked_key == "2547*149"
    stored = _raw_column("accounts_clientprofile", "phone_number", profile.pk)
    assert stored.startswith("fernet:")
    assert ClientProfile.objects.get(pk=profile.pk).phone_number == PHONE


@pytest.mark.parametrize("term", ["0708374149", "+254 708 374 149", "708374149"])
def test_payments_are_found_by_phone_in_any_spelling(term):
    # given
    wanted = PaymentFactory(phone_number=PHONE)
    paid_from = PaymentFactory(phone_number="254712345678", paid_phone_number=PHONE)
    PaymentFactory(phone_number="254712345678")
    # when
    found = set(Payment.objects.filter(payment_search_q(term)))
    # then
    assert found == {wanted, paid_from}


def test_a_masked_payer_showing_more_digits_is_found():
    # given
    wanted = paybill_receipt("TLK3AB12CD", payer_phone="254708 **** 4149")
    paybill_receipt("TLK3AB12CE", payer_phone="254712 **** 4149")
    # when
    found = set(MpesaReceipt.objects.filter(payer_phone_q(PHONE)))
    # then
    assert found == {wanted}
