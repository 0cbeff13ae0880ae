"""The Refund model's own guarantees: the database refuses what no code
may write, and the one transition owner keeps to the table."""

import pytest
from django.db import IntegrityError, transaction

from bookings.tests.factories import UserFactory
from payments.exceptions import InvalidRefundTransition
from payments.models import PaymentEvent, Refund
from payments.services.refund_transitions import refund_lock, refund_move
from payments.tests.ledger_support import paybill_receipt

pytestmark = pytest.mark.django_db
Status = Refund.Status


def _refund(**fields) -> Refund:
    values = {
        "receipt": paybill_receipt(),
        "amount": 3000,
        "method": Refund.Method.REVERSAL,
        "reason": Refund.Reason.UNKNOWN_ACCOUNT,
        "requested_by": UserFactory(),
    }
    values.update(fields)
    return Refund.objects.create(**values)


def _refused(**fields) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _refund(**fields)


def test_the_database_refuses_one_person_as_maker_and_checker():
    maker = UserFactory()
    _refused(requested_by=maker, approved_by=maker, status=Status.APPROVED)


def test_the_database_refuses_a_refund_sent_without_approval():
    for status in (Status.APPROVED, Status.SUBMITTED, Status.UNKNOWN, Status.COMPLETED):
        _refused(status=status)


def test_the_database_refuses_a_b2c_refund_without_recipient_and_zero_amounts():
    _refused(method=Refund.Method.B2C)
    _refused(amount=0)
    _refused(status="sent")


def test_each_refund_has_its_own_originator_conversation_id():
    receipt = paybill_receipt()
    first = _refund(receipt=receipt, amount=1000)
    second = _refund(receipt=receipt, amount=1000)
    assert first.originator_conversation_id != second.originator_conversation_id
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=second.pk).update(
            originator_conversation_id=first.originator_conversation_id
        )


def test_refund_move_follows_the_table_and_logs_each_change():
    refund = _refund()
    checker = UserFactory()
    with transaction.atomic():
        locked = refund_lock(refund_id=refund.pk)
        assert refund_move(
            locked,
            to=Status.APPROVED,
            reason="approved",
            actor=checker,
            approved_by=checker,
        )
        assert not refund_move(locked, to=Status.APPROVED, reason="again")
        with pytest.raises(InvalidRefundTransition):
            refund_move(locked, to=Status.COMPLETED, reason="skips submission")
    refund.refresh_from_db()
    assert refund.status == Status.APPROVED
    assert refund.approved_by == checker
    events = PaymentEvent.objects.filter(refund=refund)
    assert [(e.from_status, e.to_status, e.actor) for e in events] == [
        ("requested", "approved", checker)
    ]


@pytest.mark.parametrize(
    ("start", "allowed"),
    [
        (Status.REQUESTED, {Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
        (Status.APPROVED, {Status.SUBMITTED}),
        (Status.UNKNOWN, {Status.COMPLETED, Status.FAILED}),
        (Status.COMPLETED, set()),
        (Status.FAILED, set()),
    ],
)
def test_sent_money_is_resolved_only_by_an_answer(start, allowed):
    """Nothing goes back to ``approved`` (to be sent again) once its outcome
    is unknown; finished refunds never move."""
    assert {s for s in Status.values if Refund.can_transition(start, s)} == allowed
