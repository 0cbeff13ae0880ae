import itertools

import pytest
from django.db import connection

from bookings.tests.factories import UserFactory
from payments.exceptions import AppendOnlyError, InvalidPaymentTransition
from payments.models import Payment, PaymentEvent
from payments.services.transitions import payment_accept_push, payment_resolve
from payments.tests.factories import PaymentEventFactory, PaymentFactory

pytestmark = pytest.mark.django_db
Status = Payment.Status

ALLOWED = [
    (source, target)
    for source, targets in Payment.ALLOWED_TRANSITIONS.items()
    for target in targets
]
REFUSED = [
    (source, target)
    for source, target in itertools.permutations(Status.values, 2)
    if target not in Payment.ALLOWED_TRANSITIONS[source]
]


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_each_allowed_move_is_applied_by_its_owner(source, target):
    # given
    payment = PaymentFactory(status=source)
    # when
    payment_resolve(payment_id=payment.pk, to=target, note="test", actor=UserFactory())
    # then
    payment.refresh_from_db()
    assert payment.status == target
    change = payment.events.get(kind=PaymentEvent.Kind.STATUS_CHANGE)
    assert (change.from_status, change.to_status) == (source, target)


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_each_other_move_is_refused_by_the_owner(source, target):
    # given
    payment = PaymentFactory(status=source)
    # when / then
    with pytest.raises(InvalidPaymentTransition):
        payment_resolve(
            payment_id=payment.pk, to=target, note="test", actor=UserFactory()
        )
    payment.refresh_from_db()
    assert payment.status == source
    assert not payment.events.exists()


def test_payment_transition_to_current_status_is_a_no_op(
    django_capture_on_commit_callbacks,
):
    # given: an accepted push, accepted again (a repeated answer)
    payment = PaymentFactory(status=Status.PENDING)
    # when
    with django_capture_on_commit_callbacks():
        change = payment_accept_push(
            payment_id=payment.pk,
            merchant_request_id=payment.merchant_request_id,
            checkout_request_id=payment.checkout_request_id,
            accepted_at=payment.accepted_at,
        )
    # then
    assert change.changed is False
    assert not payment.events.exists()


def test_refused_transitions_cover_the_documented_dangerous_moves():
    # then: a completed payment can never be failed or expired by anyone
    assert (Status.COMPLETED, Status.FAILED) in REFUSED
    assert (Status.COMPLETED, Status.EXPIRED) in REFUSED
    assert (Status.COMPLETED, Status.PENDING) in REFUSED


def test_payment_event_refuses_save_of_existing_row():
    # given
    event = PaymentEventFactory()
    event.reason = "rewritten"
    # when / then
    with pytest.raises(AppendOnlyError):
        event.save()


def test_payment_event_refuses_delete_and_bulk_update():
    # given
    event = PaymentEventFactory()
    # when / then
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        PaymentEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        PaymentEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_payment_event_update_is_refused_by_the_database_itself():
    # given
    event = PaymentEventFactory()
    # when / then: even raw SQL cannot rewrite history
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_paymentevent SET reason = 'x' WHERE id = %s", [event.pk]
        )
    event.refresh_from_db()
    assert event.reason == "test note"
