"""Issue 17, points 5-7: each money event sends its notices exactly once,
however often the event is reported or the task retried."""

import pytest

from accounts.models import ClientProfile
from bookings.models import Booking
from bookings.tests.factories import AdvocateFactory, BookingFactory, UserFactory
from notices.models import Notice
from notices.services import notice_queue_payment_failed
from notices.tests.conftest import sms_sent
from payments.models import Payment
from payments.services.ledger_staff import receipt_allocate_to_booking
from payments.tests.conftest import c2b_url, callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import paybill_receipt
from payments.tests.payloads import (
    as_bytes,
    c2b_request,
    failure_callback,
    success_callback,
)

pytestmark = pytest.mark.django_db


def _booking():
    client = UserFactory(email="amina@example.com")
    ClientProfile.objects.create(user=client, phone_number="254712345678")
    advocate = AdvocateFactory(name="Wanjiru Kamau", email="wanjiru@example.com")
    return BookingFactory(client=client, advocate=advocate, amount=3000)


def _post(client, url, body, captured):
    with captured(execute=True):
        return client.generic(
            "POST", url, as_bytes(body), content_type="application/json"
        )


def _stk_success(client, payment, captured, receipt="NLJ7RT61SV"):
    body = success_callback(
        payment.checkout_request_id,
        merchant_request_id=payment.merchant_request_id,
        receipt=receipt,
    )
    return _post(client, callback_url(), body, captured)


def test_stk_success_sends_the_client_and_advocate_notices_once(
    client, fake_daraja, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory(booking=_booking())
    # when the same success callback arrives twice
    _stk_success(client, payment, django_capture_on_commit_callbacks)
    _stk_success(client, payment, django_capture_on_commit_callbacks)
    # then one e-mail to each, one SMS to the client
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert sorted(m.to[0] for m in mailoutbox) == [
        "amina@example.com",
        "wanjiru@example.com",
    ]
    confirmation = next(m for m in mailoutbox if m.to == ["amina@example.com"])
    reference = payment.booking.reference
    assert reference in confirmation.subject
    for fact in (reference, "Wanjiru Kamau", "KES 3,000", "NLJ7RT61SV", "Nairobi"):
        assert fact in confirmation.body
    assert confirmation.alternatives[0].mimetype == "text/html"
    [sms] = sms_sent(sms_outbox)
    assert "To: 254712345678" in sms
    assert reference in sms
    assert "NLJ7RT61SV" in sms
    assert Notice.objects.filter(status="sent").count() == 3


def test_paybill_payment_also_confirms_the_booking_by_notice(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    booking = _booking()
    body = c2b_request(account=booking.reference, trans_id="TLK1234XYZ")
    # when the confirmation comes twice
    _post(client, c2b_url("confirmation"), body, django_capture_on_commit_callbacks)
    _post(client, c2b_url("confirmation"), body, django_capture_on_commit_callbacks)
    # then
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID
    client_mail = [m for m in mailoutbox if m.to == ["amina@example.com"]]
    assert len(client_mail) == 1
    assert "TLK1234XYZ" in client_mail[0].body


def test_failed_payment_tells_the_client_how_to_pay_by_paybill_once(
    client, fake_daraja, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    # given
    payment = PaymentFactory(booking=_booking())
    body = failure_callback(
        payment.checkout_request_id,
        code=1032,
        merchant_request_id=payment.merchant_request_id,
    )
    # when the failure callback arrives twice
    _post(client, callback_url(), body, django_capture_on_commit_callbacks)
    _post(client, callback_url(), body, django_capture_on_commit_callbacks)
    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    [mail] = mailoutbox
    reference = payment.booking.reference
    assert "did not go through" in mail.subject
    assert "cancelled on your phone" in mail.body
    assert "Business number: 600984" in mail.body
    assert f"Account number: {reference}" in mail.body
    assert "Amount: KES 3,000" in mail.body
    [sms] = sms_sent(sms_outbox)
    assert "Paybill 600984" in sms


def test_no_failure_notice_when_the_booking_was_paid_meanwhile(mailoutbox):
    # given a failed payment of a booking another payment paid
    payment = PaymentFactory(failed=True, booking=_booking())
    Booking.objects.filter(pk=payment.booking_id).update(
        status="confirmed", payment_status="paid"
    )
    # when / then
    assert notice_queue_payment_failed(payment_id=payment.pk) == []
    assert mailoutbox == []


def test_booking_without_contact_details_sends_nothing_and_still_settles(
    client, fake_daraja, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    # given a client with no e-mail or phone of their own, an advocate
    # without e-mail: the payment's phone is used for the SMS
    booking = BookingFactory(client=UserFactory(email=""), advocate=AdvocateFactory())
    payment = PaymentFactory(booking=booking, phone_number="254799000111")
    # when
    _stk_success(client, payment, django_capture_on_commit_callbacks)
    # then
    assert mailoutbox == []
    [sms] = sms_sent(sms_outbox)
    assert "To: 254799000111" in sms


def test_staff_allocating_paybill_money_confirms_the_booking_by_notice(
    mailoutbox, django_capture_on_commit_callbacks
):
    # given unallocated Paybill money and a booking owing it
    receipt = paybill_receipt()
    booking = _booking()
    # when staff allocate it
    with django_capture_on_commit_callbacks(execute=True):
        receipt_allocate_to_booking(
            receipt_id=receipt.pk,
            booking_reference=booking.reference,
            actor=UserFactory(staff=True),
            note="Client called",
        )
    # then the client and the advocate hear of it once
    assert sorted(m.to[0] for m in mailoutbox) == [
        "amina@example.com",
        "wanjiru@example.com",
    ]
    advocate_mail = next(m for m in mailoutbox if m.to == ["wanjiru@example.com"])
    assert booking.reference in advocate_mail.subject
    assert receipt.receipt_number in mailoutbox[0].body + mailoutbox[1].body
