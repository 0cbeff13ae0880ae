"""Refunds under concurrency, on PostgreSQL where row locks are real: a
receipt never holds more refunds than it brought in, and one refund is
decided once."""

import pytest

from core.tests.concurrency import run_at_once
from payments.exceptions import InvalidRefundTransition, RefundRefused
from payments.models import Refund
from payments.services.refund_automatic import refunds_request_due
from payments.services.refunds import refund_approve, refund_reject, refund_request
from payments.tests.refund_support import (
    b2c_settings,
    cancelled_paid_booking_receipt,
    staff_in,
)

pytestmark = [
    pytest.mark.postgres,
    # The groups are migration data: restore them after each flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # The test's own workers send approved refunds, not the commit's task.
    pytest.mark.usefixtures("refund_submission_not_queued"),
]


def _requester(receipt, actor, **fields):
    def request() -> None:
        refund_request(
            receipt_number=receipt.receipt_number,
            reason="cancelled",
            actor=actor,
            **fields,
        )

    return request


def test_two_whole_refunds_of_one_receipt_at_once_one_is_refused():
    receipt = cancelled_paid_booking_receipt()
    one, two = staff_in("Support", username="s1"), staff_in("Support", username="s2")

    errors = run_at_once(_requester(receipt, one), _requester(receipt, two))

    assert len(errors) == 1
    assert isinstance(errors[0], RefundRefused)
    assert Refund.objects.filter(receipt=receipt).count() == 1


def test_partial_refunds_at_once_never_exceed_the_receipt(settings):
    b2c_settings(settings)
    receipt = cancelled_paid_booking_receipt(amount=3000)
    people = [staff_in("Support", username=f"p{n}") for n in range(3)]

    errors = run_at_once(
        *(
            _requester(receipt, person, amount=1200, recipient_phone="0712345678")
            for person in people
        )
    )

    assert len(errors) == 1
    assert (
        sum(Refund.objects.filter(receipt=receipt).values_list("amount", flat=True))
        == 2400
    )


def test_staff_and_the_automatic_request_at_once_make_one_refund():
    receipt = cancelled_paid_booking_receipt()
    support = staff_in("Support", username="s1")

    errors = run_at_once(_requester(receipt, support), refunds_request_due)

    assert Refund.objects.filter(receipt=receipt).count() == 1
    assert all(isinstance(error, RefundRefused) for error in errors)


def test_two_approvers_at_once_decide_a_refund_once():
    receipt = cancelled_paid_booking_receipt()
    refund = refund_request(
        receipt_number=receipt.receipt_number,
        reason="cancelled",
        actor=staff_in("Support", username="maker"),
    )
    first, second = (
        staff_in("Finance", username="f1"),
        staff_in("Finance", username="f2"),
    )

    errors = run_at_once(
        lambda: refund_approve(refund_id=refund.pk, actor=first),
        lambda: refund_reject(refund_id=refund.pk, actor=second, note="no"),
    )

    assert len(errors) == 1
    assert isinstance(errors[0], InvalidRefundTransition)
    refund.refresh_from_db()
    assert refund.status in (Refund.Status.APPROVED, Refund.Status.REJECTED)
    assert refund.events.filter(to_status__in=["approved", "rejected"]).count() == 1
