"""Admin actions: re-query, resolve manually, export CSV; permissions."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from bookings.models import Booking
from bookings.tests.factories import UserFactory
from payments.daraja.exceptions import DarajaUnavailable
from payments.models import Payment, PaymentEvent
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer

pytestmark = pytest.mark.django_db
Status = Payment.Status
LIST_URL = reverse("admin:payments_payment_changelist")


def _login(client, group: str | None = None, *, superuser: bool = False):
    user = UserFactory(staff=True, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def _run(client, action: str, payments, **extra):
    data = {
        "action": action,
        "_selected_action": [p.pk for p in payments],
        "index": 0,
        **extra,
    }
    return client.post(LIST_URL, data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _resolve(client, payments, **form):
    data = {
        "action": "resolve_manually",
        "_selected_action": [p.pk for p in payments],
        "apply": "Resolve",
        **form,
    }
    return client.post(LIST_URL, data, follow=True)


def test_requery_completes_payment_and_reports_change(client, fake_daraja):
    # given
    user = _login(client, "Support")
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("0", "processed successfully")

    # when
    response = _run(client, "requery_with_daraja", [payment])

    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.booking.status == Booking.Status.CONFIRMED
    assert f"Payment {payment.pk}: pending → completed" in _messages(response)[0]
    staff_event = payment.events.get(kind=PaymentEvent.Kind.STAFF_ACTION)
    assert staff_event.actor == user


def test_requery_reports_failure_code(client, fake_daraja):
    # given
    _login(client, "Finance")
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer("1032", "Request cancelled by user")

    # when
    response = _run(client, "requery_with_daraja", [payment])

    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    assert payment.result_code == "1032"
    assert "pending → failed (Request cancelled by user)" in _messages(response)[0]


def test_requery_reports_still_processing_without_change(client, fake_daraja):
    # given
    _login(client, "Support")
    payment = PaymentFactory()
    fake_daraja.query_result = query_answer(None)

    # when
    response = _run(client, "requery_with_daraja", [payment])

    # then
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert "still pending, Daraja: still_pending" in _messages(response)[0]


def test_requery_reports_daraja_unreachable(client, fake_daraja):
    # given
    _login(client, "Support")
    payment = PaymentFactory()
    fake_daraja.query_result = DarajaUnavailable("connection refused")

    # when
    response = _run(client, "requery_with_daraja", [payment])

    # then
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert "Daraja could not be asked" in _messages(response)[0]


def test_requery_reports_each_selected_payment(client, fake_daraja):
    # given
    _login(client, "Support")
    payments = PaymentFactory.create_batch(3)
    fake_daraja.query_result = query_answer("1", "insufficient")

    # when
    response = _run(client, "requery_with_daraja", payments)

    # then
    assert len(_messages(response)) == 3
    assert sorted(fake_daraja.queries) == sorted(
        p.checkout_request_id for p in payments
    )


def test_requery_refused_without_permission(client, fake_daraja):
    # given
    user = UserFactory(staff=True)
    user.user_permissions.add(
        *Group.objects.get(name="Support").permissions.exclude(
            codename="requery_payment"
        )
    )
    client.force_login(user)
    payment = PaymentFactory()

    # when
    _run(client, "requery_with_daraja", [payment])

    # then
    assert fake_daraja.queries == []


def test_resolve_shows_form_with_allowed_targets_only(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(failed=True)

    # when
    response = _run(client, "resolve_manually", [payment])

    # then
    assert response.status_code == 200
    choices = [value for value, _ in response.context["form"].fields["to"].choices]
    assert choices == ["", "completed", "needs_review"]


def test_resolve_completes_payment_with_note_and_actor(client):
    # given
    user = _login(client, "Finance")
    payment = PaymentFactory(failed=True)

    # when
    response = _resolve(
        client,
        [payment],
        to="completed",
        note="Statement shows NLJ7RT61SV",
        mpesa_receipt_number="NLJ7RT61SV",
    )

    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.booking.status == Booking.Status.CONFIRMED
    event = payment.events.get(kind=PaymentEvent.Kind.STAFF_ACTION)
    assert event.actor == user
    assert "Statement shows NLJ7RT61SV" in event.reason
    assert f"Payment {payment.pk}: resolved to completed." in _messages(response)


def test_resolve_requires_note(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(needs_review=True)

    # when
    response = _resolve(client, [payment], to="failed", note="  ")

    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert response.context["form"].errors["note"]


def test_resolve_refuses_target_not_allowed(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(completed=True)

    # when
    response = _resolve(client, [payment], to="failed", note="customer says so")

    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert "to" in response.context["form"].errors


def test_resolve_reports_booking_that_cannot_be_confirmed(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(needs_review=True, booking__cancelled=True)

    # when
    response = _resolve(
        client,
        [payment],
        to="completed",
        note="paid late",
        mpesa_receipt_number="NLJ7RT61SV",
    )

    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert "cannot be confirmed" in _messages(response)[0]


def test_resolve_refused_for_support(client):
    # given
    _login(client, "Support")
    payment = PaymentFactory(needs_review=True)

    # when
    response = _resolve(client, [payment], to="failed", note="no money seen")

    # then
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert not payment.events.exists()
    assert "resolve_manually" not in response.content.decode()


def test_resolve_allowed_for_superuser(client):
    # given
    _login(client, superuser=True)
    payment = PaymentFactory(needs_review=True)

    # when
    _resolve(client, [payment], to="failed", note="no money seen")

    # then
    payment.refresh_from_db()
    assert payment.status == Status.FAILED


def test_actions_offered_per_group(client):
    # given
    _login(client, "Support")

    # when
    actions = client.get(LIST_URL).context["action_form"].fields["action"].choices

    # then
    names = {name for name, _ in actions}
    assert "requery_with_daraja" in names
    assert "resolve_manually" not in names
    assert "export_csv" not in names
    assert "delete_selected" not in names


def test_resolve_form_starts_with_no_status_chosen(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(needs_review=True)

    # when
    response = _run(client, "resolve_manually", [payment])
    submitted = _resolve(client, [payment], note="no money on the statement")

    # then
    choices = response.context["form"].fields["to"].choices
    assert choices[0][0] == ""
    assert '<option value="" selected>' in response.content.decode()
    assert "to" in submitted.context["form"].errors
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW


def test_resolve_to_completed_requires_the_receipt(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(needs_review=True)

    # when
    response = _resolve(client, [payment], to="completed", note="seen on statement")

    # then
    assert response.context["form"].errors["mpesa_receipt_number"]
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW


def test_resolve_to_completed_saves_the_receipt_in_upper_case(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(needs_review=True)

    # when
    _resolve(
        client,
        [payment],
        to="completed",
        note="seen on statement",
        mpesa_receipt_number=" nlj7rt61sv ",
    )

    # then
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED
    assert payment.mpesa_receipt_number == "NLJ7RT61SV"


@pytest.mark.parametrize("receipt", ["NLJ-7RT61", "A" * 21, "NLJ 7RT61", "NLJ7RT6É"])
def test_resolve_refuses_a_malformed_receipt(client, receipt):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(needs_review=True)

    # when
    response = _resolve(
        client,
        [payment],
        to="completed",
        note="seen on statement",
        mpesa_receipt_number=receipt,
    )

    # then
    assert response.context["form"].errors["mpesa_receipt_number"]
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW


def test_resolve_refuses_a_receipt_another_payment_holds(client):
    # given
    _login(client, "Finance")
    PaymentFactory(completed=True, mpesa_receipt_number="NLJ7RT61SV")
    payment = PaymentFactory(needs_review=True)

    # when
    response = _resolve(
        client,
        [payment],
        to="completed",
        note="seen on statement",
        mpesa_receipt_number="nlj7rt61sv",
    )

    # then
    errors = response.context["form"].errors["mpesa_receipt_number"]
    assert "another payment" in errors[0]
    payment.refresh_from_db()
    assert payment.status == Status.NEEDS_REVIEW
    assert payment.mpesa_receipt_number is None


def test_resolve_to_completed_takes_one_payment_at_a_time(client):
    # given: one receipt cannot pay two payments
    _login(client, "Finance")
    payments = PaymentFactory.create_batch(2, needs_review=True)

    # when
    response = _resolve(
        client,
        payments,
        to="completed",
        note="seen on statement",
        mpesa_receipt_number="NLJ7RT61SV",
    )

    # then
    assert response.context["form"].errors["to"]
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert statuses == {Status.NEEDS_REVIEW}
