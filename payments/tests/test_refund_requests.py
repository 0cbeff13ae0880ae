"""Requesting and deciding refunds: maker and checker, limits, how much of
a receipt may go back, and what a booking's state allows."""

import pytest

from bookings.tests.factories import UserFactory
from payments.exceptions import (
    InvalidRefundTransition,
    RefundPermissionDenied,
    RefundRefused,
)
from payments.models import MpesaReceipt, PaymentEvent, Refund
from payments.services.refunds import (
    refund_approve,
    refund_cancel,
    refund_reject,
    refund_request,
)
from payments.services.system_user import refund_system_user
from payments.tests.ledger_support import paybill_receipt
from payments.tests.refund_support import (
    b2c_settings,
    cancelled_paid_booking_receipt,
    paid_booking_receipt,
    staff_in,
)

pytestmark = pytest.mark.django_db
Status = Refund.Status


@pytest.fixture
def support():
    return staff_in("Support", username="support1")


@pytest.fixture
def finance():
    return staff_in("Finance", username="finance1")


def _request(receipt, actor, **fields) -> Refund:
    values = {"reason": Refund.Reason.CANCELLED}
    values.update(fields)
    return refund_request(receipt_number=receipt.receipt_number, actor=actor, **values)


def test_a_whole_receipt_is_requested_as_a_reversal_and_logged(support):
    receipt = cancelled_paid_booking_receipt()
    refund = _request(receipt, support)
    assert (refund.status, refund.method, refund.amount) == (
        Status.REQUESTED,
        Refund.Method.REVERSAL,
        3000,
    )
    assert refund.booking_id == receipt.booking_id
    assert refund.requested_by == support
    event = PaymentEvent.objects.get(refund=refund)
    assert event.kind == PaymentEvent.Kind.STAFF_ACTION
    assert event.actor == support
    assert "KES 3,000" in event.reason


def test_the_receipt_number_is_found_in_any_case(support):
    receipt = cancelled_paid_booking_receipt("TLK7REF009")
    refund = refund_request(
        receipt_number=" tlk7ref009 ", reason="cancelled", actor=support
    )
    assert refund.receipt_id == receipt.pk


def test_without_the_permission_nobody_requests():
    receipt = cancelled_paid_booking_receipt()
    with pytest.raises(RefundPermissionDenied):
        _request(receipt, UserFactory(is_staff=True))
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "12.50"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 3001}, "amount"),
        ({"reason": "because"}, "reason"),
        ({"reason": "other", "reason_text": " "}, "reason_text"),
        ({"receipt_number": "NOSUCH1"}, "receipt_number"),
    ],
)
def test_bad_input_is_refused_naming_its_field(support, fields, field):
    receipt = cancelled_paid_booking_receipt()
    values = {"receipt_number": receipt.receipt_number, "reason": "cancelled"}
    values.update(fields)
    with pytest.raises(RefundRefused) as refused:
        refund_request(actor=support, **values)
    assert field in (refused.value.fields or {})
    assert not Refund.objects.exists()


def test_a_receipt_never_holds_more_refunds_than_it_brought_in(settings, support):
    b2c_settings(settings)
    receipt = cancelled_paid_booking_receipt()
    first = _request(receipt, support, amount=2000, recipient_phone="0712345678")
    with pytest.raises(RefundRefused, match="KES 1,000 left"):
        _request(receipt, support, amount=1500, recipient_phone="0712345678")
    second = _request(receipt, support, amount=1000, recipient_phone="0712345678")
    assert {first.method, second.method} == {Refund.Method.B2C}
    with pytest.raises(RefundRefused, match="KES 0 left"):
        _request(receipt, support, amount=1)


def test_rejected_and_cancelled_refunds_free_their_amount(support, finance):
    receipt = cancelled_paid_booking_receipt()
    refund_reject(refund_id=_request(receipt, support).pk, actor=finance, note="dup")
    refund_cancel(refund_id=_request(receipt, support).pk, actor=support)
    assert _request(receipt, support).method == Refund.Method.REVERSAL


def test_part_of_a_receipt_needs_b2c(support):
    receipt = cancelled_paid_booking_receipt()
    with pytest.raises(RefundRefused, match="partial refunds need B2C"):
        _request(receipt, support, amount=1000)


def test_b2c_refunds_go_to_the_payer_or_the_number_staff_give(settings, support):
    b2c_settings(settings)
    full_phone = cancelled_paid_booking_receipt("TLK7REF010")
    assert _request(full_phone, support, amount=500).recipient_phone == "254708374149"
    masked = paybill_receipt("TLK7REF011", payer_phone="2547 ***** 149")
    with pytest.raises(RefundRefused) as refused:
        _request(masked, support, amount=500, reason="overpaid")
    assert "recipient_phone" in refused.value.fields
    refund = _request(
        masked, support, amount=500, reason="overpaid", recipient_phone="0712 345 678"
    )
    assert refund.recipient_phone == "254712345678"
    with pytest.raises(RefundRefused, match="between KES 10"):
        _request(
            masked, support, amount=9, reason="overpaid", recipient_phone="0712345678"
        )


def test_a_paid_booking_keeps_its_money_until_it_is_cancelled(settings, support):
    b2c_settings(settings)
    receipt = paid_booking_receipt()
    with pytest.raises(RefundRefused, match="cancel the booking first"):
        _request(receipt, support, reason="goodwill")
    with pytest.raises(RefundRefused, match="overpaid, goodwill or other"):
        _request(receipt, support, amount=500, reason="cancelled")
    assert _request(receipt, support, amount=500, reason="goodwill").amount == 500


def test_unallocated_money_is_marked_while_its_refund_is_asked(support, finance):
    receipt = paybill_receipt("TLK7REF012")
    refund = _request(receipt, support, reason="unknown_account")
    receipt.refresh_from_db()
    assert receipt.refund_marked_at is not None
    assert receipt.refund_marked_by == support
    refund_reject(refund_id=refund.pk, actor=finance, note="it is booking HY...")
    receipt.refresh_from_db()
    assert receipt.refund_marked_at is None
    assert receipt.allocation == MpesaReceipt.Allocation.UNALLOCATED


def test_a_refunded_receipt_or_money_going_out_is_not_refundable(support):
    receipt = paybill_receipt("TLK7REF013")
    MpesaReceipt.objects.filter(pk=receipt.pk).update(
        allocation=MpesaReceipt.Allocation.REFUNDED
    )
    with pytest.raises(RefundRefused, match="refunded already"):
        _request(receipt, support)
    outgoing = paybill_receipt("TLK7REF014")
    MpesaReceipt.objects.filter(pk=outgoing.pk).update(
        direction=MpesaReceipt.Direction.OUT
    )
    with pytest.raises(RefundRefused, match="going out"):
        _request(outgoing, support)


def test_the_requester_never_approves_their_own_refund():
    maker = staff_in("Finance", username="maker")
    refund = _request(cancelled_paid_booking_receipt(), maker)
    with pytest.raises(RefundRefused, match="another person"):
        refund_approve(refund_id=refund.pk, actor=maker)
    with pytest.raises(RefundRefused, match="another person"):
        refund_reject(refund_id=refund.pk, actor=maker, note="no")
    refund.refresh_from_db()
    assert refund.status == Status.REQUESTED


def test_support_requests_and_finance_approves(support, finance):
    refund = _request(cancelled_paid_booking_receipt(), support)
    with pytest.raises(RefundPermissionDenied):
        refund_approve(refund_id=refund.pk, actor=staff_in("Support", username="s2"))
    approved = refund_approve(refund_id=refund.pk, actor=finance, note="checked")
    assert approved.status == Status.APPROVED
    assert approved.approved_by == finance
    assert approved.approved_at is not None
    with pytest.raises(InvalidRefundTransition):
        refund_reject(refund_id=refund.pk, actor=finance, note="too late")
    with pytest.raises(InvalidRefundTransition):
        refund_cancel(refund_id=refund.pk, actor=support)


def test_above_the_limit_only_a_large_refund_approver_approves(settings, support):
    settings.REFUND_APPROVAL_LIMIT = 2999
    refund = _request(cancelled_paid_booking_receipt(), support)
    with pytest.raises(RefundPermissionDenied, match="above KES 2,999"):
        refund_approve(refund_id=refund.pk, actor=staff_in("Finance", username="f2"))
    senior = staff_in("Finance", "approve_large_refund", username="senior")
    assert refund_approve(refund_id=refund.pk, actor=senior).status == Status.APPROVED


def test_at_the_limit_any_approver_approves(settings, support, finance):
    settings.REFUND_APPROVAL_LIMIT = 3000
    refund = _request(cancelled_paid_booking_receipt(), support)
    assert refund_approve(refund_id=refund.pk, actor=finance).status == Status.APPROVED


def test_a_rejection_says_why(support, finance):
    refund = _request(cancelled_paid_booking_receipt(), support)
    with pytest.raises(RefundRefused) as refused:
        refund_reject(refund_id=refund.pk, actor=finance, note="  ")
    assert "note" in refused.value.fields
    rejected = refund_reject(refund_id=refund.pk, actor=finance, note="client stayed")
    assert (rejected.status, rejected.rejected_by, rejected.decision_note) == (
        Status.REJECTED,
        finance,
        "client stayed",
    )


def test_only_the_requester_cancels_except_the_system_users_requests(support):
    other = staff_in("Support", username="other")
    refund = _request(cancelled_paid_booking_receipt("TLK7REF015"), support)
    with pytest.raises(RefundPermissionDenied, match="Only the person"):
        refund_cancel(refund_id=refund.pk, actor=other)
    automatic = _request(
        cancelled_paid_booking_receipt("TLK7REF016"), refund_system_user()
    )
    cancelled = refund_cancel(refund_id=automatic.pk, actor=other, note="client asked")
    assert (cancelled.status, cancelled.cancelled_by) == (Status.CANCELLED, other)


def test_the_system_user_may_request_and_nothing_more(finance):
    system = refund_system_user()
    assert system == refund_system_user()
    assert not system.has_usable_password()
    assert not system.is_staff
    refund = _request(cancelled_paid_booking_receipt(), system)
    with pytest.raises(RefundPermissionDenied):
        refund_approve(refund_id=refund.pk, actor=system)
    assert refund_approve(refund_id=refund.pk, actor=finance).approved_by == finance


def test_only_if_first_requests_nothing_once_a_receipt_has_a_refund(support, finance):
    receipt = cancelled_paid_booking_receipt()
    refund_reject(refund_id=_request(receipt, support).pk, actor=finance, note="no")
    assert _request(receipt, refund_system_user(), only_if_first=True) is None
    assert Refund.objects.count() == 1
