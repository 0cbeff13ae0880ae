"""``manage.py purge_personal_data``: phones and names of settled records
past retention become a marker; open ones and the accounts stay (issue 16,
point 5)."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from bookings.tests.factories import UserFactory
from payments.admin.receipt_search import payer_phone_q
from payments.admin.search import payment_search_q
from payments.models import MpesaReceipt, Payment, Refund
from payments.services.purge import PURGED
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt

pytestmark = pytest.mark.django_db
PHONE = "254708374149"
LONG_AGO = timezone.now() - timedelta(days=400)


def _age(row) -> None:
    type(row).objects.filter(pk=row.pk).update(updated_at=LONG_AGO)


def _purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_personal_data", *args, stdout=out)
    return out.getvalue()


def _refund(receipt, status: str) -> Refund:
    requester, approver = UserFactory(), UserFactory()
    refund = Refund.objects.create(
        receipt=receipt,
        booking=receipt.booking,
        amount=100,
        method=Refund.Method.B2C,
        reason=Refund.Reason.GOODWILL,
        status=status,
        recipient_phone=PHONE,
        requested_by=requester,
        approved_by=approver,
    )
    _age(refund)
    return refund


@pytest.fixture
def old_settled():
    payment = PaymentFactory(completed=True, paid_phone_number=PHONE)
    receipt = allocated_receipt("TLK3AB12CD", payment=payment)
    MpesaReceipt.objects.filter(pk=receipt.pk).update(payer_name="JOHN DOE")
    refund = _refund(receipt, Refund.Status.COMPLETED)
    for row in (payment, receipt):
        _age(row)
    return payment, receipt, refund


def test_settled_records_past_retention_lose_phones_and_names(old_settled):
    # given
    payment, receipt, refund = old_settled
    # when
    output = _purge("--older-than", "365")
    # then: the marker replaces them, the accounts stay
    payment = Payment.objects.get(pk=payment.pk)
    assert (payment.phone_number, payment.paid_phone_number) == (PURGED, PURGED)
    assert (payment.phone_index, payment.paid_phone_index) == ("", "")
    assert payment.amount == payment.booking.amount
    assert payment.mpesa_receipt_number
    assert payment.updated_at == LONG_AGO
    receipt = MpesaReceipt.objects.get(pk=receipt.pk)
    assert (receipt.payer_phone, receipt.payer_name) == (PURGED, PURGED)
    assert (receipt.receipt_number, receipt.amount) == ("TLK3AB12CD", payment.amount)
    assert Refund.objects.get(pk=refund.pk).recipient_phone == PURGED
    assert "purged (older than 365 days): 1 payments, 1 receipts, 1 refunds" in output
    # and: no search by the number finds them any more
    assert not Payment.objects.filter(payment_search_q(PHONE)).exists()
    assert not MpesaReceipt.objects.filter(payer_phone_q(PHONE)).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT payer_phone FROM payments_mpesareceipt")
        assert cursor.fetchone()[0].startswith("fernet:")


def test_open_and_unsettled_records_are_kept(old_settled):
    # given: what may still need its number to settle money
    pending = PaymentFactory(phone_number=PHONE)
    review = PaymentFactory(needs_review=True, phone_number=PHONE)
    unallocated = paybill_receipt("TLK3AB12CE", payer_phone=PHONE)
    _payment, receipt, _refund_done = old_settled
    unknown = _refund(receipt, Refund.Status.UNKNOWN)
    recent = PaymentFactory(completed=True, phone_number=PHONE)
    for row in (pending, review, unallocated):
        _age(row)
    # when
    output = _purge("--older-than", "365")
    # then
    for kept in (pending, review, recent):
        assert Payment.objects.get(pk=kept.pk).phone_number == PHONE
    assert MpesaReceipt.objects.get(pk=unallocated.pk).payer_phone == PHONE
    assert MpesaReceipt.objects.get(pk=receipt.pk).payer_phone == PHONE  # refund open
    assert Refund.objects.get(pk=unknown.pk).recipient_phone == PHONE
    assert "1 payments, 0 receipts, 1 refunds" in output


def test_a_dry_run_counts_and_writes_nothing(old_settled):
    # given
    payment, _receipt, _refund = old_settled
    # when
    output = _purge("--older-than", "365", "--dry-run")
    # then
    assert "would purge (older than 365 days): 1 payments, 1 receipts" in output
    assert Payment.objects.get(pk=payment.pk).phone_number == PHONE


def test_a_second_purge_finds_nothing(old_settled):
    _purge("--older-than", "365")
    assert "0 payments, 0 receipts, 0 refunds" in _purge("--older-than", "365")


def test_the_retention_setting_is_the_default(settings, old_settled):
    # given
    settings.PERSONAL_DATA_RETENTION_DAYS = 500
    # when / then: the records are 400 days old, within 500
    assert "0 payments, 0 receipts, 0 refunds" in _purge()


def test_without_days_or_setting_the_command_refuses(settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = None
    with pytest.raises(CommandError, match="PERSONAL_DATA_RETENTION_DAYS"):
        _purge()
