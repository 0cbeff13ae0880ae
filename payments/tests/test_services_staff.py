"""payment_resolve_manually: a completion on a staff member's word needs
the M-Pesa receipt, well-formed and on no other payment (issue 11,
point 16)."""

import pytest

from bookings.models import Booking
from bookings.tests.factories import UserFactory
from payments.exceptions import InvalidPaymentInput, InvalidPaymentTransition
from payments.models import Payment
from payments.services.settlement import payment_record_failure
from payments.services.staff import payment_resolve_manually
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
Status = Payment.Status


def _resolve(payment: Payment, **kwargs) -> Payment:
    return payment_resolve_manually(
        payment_id=payment.pk,
        to=kwargs.pop("to", Status.COMPLETED),
        note="seen on the M-Pesa statement",
        actor=UserFactory(staff=True),
        **kwargs,
    )


@pytest.mark.parametrize("receipt", [None, "", "  "])
def test_resolve_to_completed_without_a_receipt_is_refused(receipt):
    # given
    payment = PaymentFactory(needs_review=True)
    # when
    with pytest.raises(InvalidPaymentInput) as raised:
        _resolve(payment, mpesa_receipt_number=receipt)
    # then
    assert raised.value.field == "mpesa_receipt_number"
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW


@pytest.mark.parametrize("receipt", ["NLJ-7RT61", "B" * 21, "NLJ7RT6É", "١٢٣"])
def test_resolve_to_completed_with_a_malformed_receipt_is_refused(receipt):
    # given
    payment = PaymentFactory(needs_review=True)
    # when / then
    with pytest.raises(InvalidPaymentInput):
        _resolve(payment, mpesa_receipt_number=receipt)


def test_resolve_to_completed_with_another_payments_receipt_is_refused():
    # given
    PaymentFactory(completed=True, mpesa_receipt_number="NLJ7RT61SV")
    payment = PaymentFactory(needs_review=True)
    # when
    with pytest.raises(InvalidPaymentInput) as raised:
        _resolve(payment, mpesa_receipt_number="nlj7rt61sv")
    # then
    assert "another payment" in raised.value.message
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == (
        Status.NEEDS_REVIEW,
        None,
    )


def test_resolve_to_completed_keeps_the_receipt_in_upper_case():
    # given
    payment = PaymentFactory(needs_review=True)
    # when
    _resolve(payment, mpesa_receipt_number="nlj7rt61sv")
    # then
    payment.refresh_from_db()
    assert (payment.status, payment.mpesa_receipt_number) == (
        Status.COMPLETED,
        "NLJ7RT61SV",
    )


def test_resolve_to_completed_refuses_a_receipt_unlike_the_one_on_record():
    # given: Daraja already reported a receipt for this payment
    payment = PaymentFactory(needs_review=True, mpesa_receipt_number="NLJ7RT61SV")
    # when / then
    with pytest.raises(InvalidPaymentInput):
        _resolve(payment, mpesa_receipt_number="QAB1CD2EF3")


def test_resolve_to_completed_accepts_the_receipt_on_record():
    # given
    payment = PaymentFactory(needs_review=True, mpesa_receipt_number="NLJ7RT61SV")
    # when
    _resolve(payment, mpesa_receipt_number="NLJ7RT61SV")
    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED


def test_resolve_to_failed_needs_no_receipt():
    # given
    payment = PaymentFactory(needs_review=True)
    # when
    _resolve(payment, to=Status.FAILED)
    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED


def test_completed_payment_sent_to_review_by_a_later_failure_can_be_completed_again():
    # given: it paid its booking; a failure report then sent it to review
    payment = PaymentFactory(completed=True, booking__confirmed=True)
    payment_record_failure(
        payment_id=payment.pk,
        result_code="1032",
        result_desc="Request cancelled by user",
        source="callback",
    )
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    # when
    resolved = _resolve(payment, mpesa_receipt_number=payment.mpesa_receipt_number)
    # then
    assert resolved.status == Status.COMPLETED
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.payment_status == Booking.PaymentStatus.PAID


def test_completing_a_payment_whose_booking_another_payment_paid_is_refused():
    # given
    paid = PaymentFactory(completed=True, booking__confirmed=True)
    second = PaymentFactory(needs_review=True, booking=paid.booking)
    # when
    with pytest.raises(InvalidPaymentTransition):
        _resolve(second, mpesa_receipt_number="QWE1234567")
    # then
    second.refresh_from_db()
    assert second.status == Status.NEEDS_REVIEW
