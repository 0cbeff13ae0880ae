"""Full phone numbers only for ``payments.view_full_phone`` (issue 11,
point 8): the admin masks them when it renders stored bodies and the
payment's own fields; the stored rows stay raw."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from bookings.tests.factories import UserFactory
from payments.models import Payment, PaymentEvent
from payments.tests.factories import PaymentEventFactory, PaymentFactory
from payments.tests.payloads import success_callback

pytestmark = pytest.mark.django_db
FULL = "254708374149"
MASKED = "2547******149"
PAID_FROM = "254712345678"


def _login(client, *, full_phone: bool = False):
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    if full_phone:
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="payments", codename="view_full_phone"
            )
        )
    client.force_login(user)
    return user


def _push_request(payment: Payment) -> dict:
    return {
        "BusinessShortCode": "174379",
        "Password": "***",
        "Timestamp": "20261201103000",
        "TransactionType": "CustomerPayBillOnline",
        "Amount": payment.amount,
        "PartyA": FULL,
        "PartyB": "174379",
        "PhoneNumber": FULL,
        "AccountReference": f"BK{payment.booking_id}",
        "TransactionDesc": "Consultation",
    }


def _paid_payment_with_history() -> tuple[Payment, PaymentEvent, PaymentEvent]:
    payment = PaymentFactory(
        completed=True, phone_number=FULL, paid_phone_number=PAID_FROM
    )
    push = PaymentEventFactory(
        payment=payment,
        kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
        operation="stk_push",
        request_body=_push_request(payment),
    )
    callback = PaymentEventFactory(
        payment=payment,
        kind=PaymentEvent.Kind.CALLBACK,
        request_body=success_callback(
            payment.checkout_request_id, phone=int(PAID_FROM)
        ),
    )
    return payment, push, callback


def _payment_page(client, payment: Payment) -> str:
    url = reverse("admin:payments_payment_change", args=[payment.pk])
    return client.get(url).content.decode()


def test_payment_page_masks_stored_push_request_and_callback_for_support(client):
    # given
    _login(client)
    payment, _, _ = _paid_payment_with_history()
    # when
    html = _payment_page(client, payment)
    # then
    assert FULL not in html
    assert PAID_FROM not in html
    assert f"&quot;PartyA&quot;: &quot;{MASKED}&quot;" in html
    assert f"&quot;PhoneNumber&quot;: &quot;{MASKED}&quot;" in html
    assert "&quot;Value&quot;: &quot;2547******678&quot;" in html


def test_payment_page_shows_full_numbers_with_view_full_phone(client):
    # given
    _login(client, full_phone=True)
    payment, _, _ = _paid_payment_with_history()
    # when
    html = _payment_page(client, payment)
    # then
    assert f"&quot;PartyA&quot;: &quot;{FULL}&quot;" in html
    assert f"&quot;Value&quot;: {PAID_FROM}" in html
    assert MASKED not in html


def test_masking_leaves_the_stored_rows_raw(client):
    # given
    _login(client)
    payment, push, callback = _paid_payment_with_history()
    # when
    _payment_page(client, payment)
    # then
    push.refresh_from_db()
    callback.refresh_from_db()
    payment.refresh_from_db()
    assert push.request_body == _push_request(payment)
    assert callback.request_body == success_callback(
        payment.checkout_request_id, phone=int(PAID_FROM)
    )
    assert (payment.phone_number, payment.paid_phone_number) == (FULL, PAID_FROM)


def test_event_page_masks_the_callbacks_phone_for_support(client):
    # given
    _login(client)
    _, _, callback = _paid_payment_with_history()
    url = reverse("admin:payments_paymentevent_change", args=[callback.pk])
    # when
    html = client.get(url).content.decode()
    # then
    assert PAID_FROM not in html
    assert "2547******678" in html


def test_event_page_shows_the_callbacks_phone_with_view_full_phone(client):
    # given
    _login(client, full_phone=True)
    _, _, callback = _paid_payment_with_history()
    url = reverse("admin:payments_paymentevent_change", args=[callback.pk])
    # when
    html = client.get(url).content.decode()
    # then
    assert PAID_FROM in html


def test_payment_list_shows_full_number_only_with_view_full_phone(client):
    # given
    _login(client, full_phone=True)
    PaymentFactory(phone_number=FULL)
    # when
    html = client.get(reverse("admin:payments_payment_changelist")).content.decode()
    # then
    assert FULL in html


def test_raw_body_of_an_unparsed_callback_is_masked_for_support(client):
    # given: a callback that was not JSON is shown as its raw text
    _login(client)
    payment = PaymentFactory()
    PaymentEventFactory(
        payment=payment,
        kind=PaymentEvent.Kind.CALLBACK,
        raw_body='{"PhoneNumber": 254708374149, oops',
        error="JSONDecodeError near 254708374149",
    )
    # when
    html = _payment_page(client, payment)
    # then
    assert FULL not in html
    assert MASKED in html


def test_view_full_phone_is_given_to_no_group():
    # when
    holders = Group.objects.filter(permissions__codename="view_full_phone")
    # then
    assert holders.exists() is False
    assert Permission.objects.filter(codename="view_full_phone").exists() is True
