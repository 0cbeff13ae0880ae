"""Admin: the payments changelist (filters, search, columns, queries)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings.tests.factories import UserFactory
from payments.models import Payment
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
Status = Payment.Status
LIST_URL = reverse("admin:payments_payment_changelist")


def _staff_client(client, group: str = "Support"):
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def _listed_ids(response) -> set[int]:
    return {payment.pk for payment in response.context["cl"].result_list}


def _age(payment: Payment, seconds: int) -> None:
    """Backdate a payment (created_at is auto_now_add)."""
    then = timezone.now() - timedelta(seconds=seconds)
    Payment.objects.filter(pk=payment.pk).update(created_at=then, accepted_at=then)


def test_payment_list_filters_by_status(client):
    # given
    pending = PaymentFactory()
    completed = PaymentFactory(completed=True)
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"status__exact": "completed"})

    # then
    assert response.status_code == 200
    assert _listed_ids(response) == {completed.pk}
    assert pending.pk not in _listed_ids(response)


def test_payment_list_stuck_filter_shows_open_payments_past_lifetime(client, settings):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    stuck_pending = PaymentFactory()
    stuck_initiated = PaymentFactory(initiated=True)
    fresh = PaymentFactory()
    old_completed = PaymentFactory(completed=True)
    for payment in (stuck_pending, stuck_initiated, old_completed):
        _age(payment, 181)
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"stuck": "yes"})

    # then
    assert _listed_ids(response) == {stuck_pending.pk, stuck_initiated.pk}
    assert fresh.pk not in _listed_ids(response)


def test_payment_list_filters_by_result_code(client):
    # given
    cancelled = PaymentFactory(failed=True)
    broke = PaymentFactory(failed=True, result_code="1")
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"result_code": "1"})

    # then
    assert _listed_ids(response) == {broke.pk}
    assert cancelled.pk not in _listed_ids(response)


def test_payment_list_filters_by_date(client):
    # given
    today = PaymentFactory()
    last_month = PaymentFactory()
    _age(last_month, 40 * 24 * 3600)
    staff = _staff_client(client)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    # when
    response = staff.get(
        LIST_URL,
        {
            "created_at__gte": midnight.isoformat(),
            "created_at__lt": (midnight + timedelta(days=1)).isoformat(),
        },
    )

    # then
    assert _listed_ids(response) == {today.pk}


@pytest.mark.parametrize(
    "term",
    [
        "254712345678",
        "0712345678",
        "0712 345 678",
        "+254 712-345-678",
        "712345678",
    ],
)
def test_payment_list_search_finds_phone_in_any_format(client, term):
    # given
    wanted = PaymentFactory(phone_number="254712345678")
    PaymentFactory(phone_number="254708374149")
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"q": term})

    # then
    assert _listed_ids(response) == {wanted.pk}


@pytest.mark.parametrize(
    ("field", "term"),
    [
        ("mpesa_receipt_number", "nlj7rt61sv"),
        ("checkout_request_id", "ws_CO_191220191020363925"),
        ("merchant_request_id", "29115-34620561-77"),
    ],
)
def test_payment_list_search_finds_daraja_identifiers(client, field, term):
    # given
    wanted = PaymentFactory(completed=True, **{field: term.upper()})
    if field != "mpesa_receipt_number":
        Payment.objects.filter(pk=wanted.pk).update(**{field: term})
    PaymentFactory(completed=True)
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"q": term})

    # then
    assert _listed_ids(response) == {wanted.pk}


def test_payment_list_search_finds_booking_id(client):
    # given
    wanted = PaymentFactory()
    other = PaymentFactory()
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"q": str(wanted.booking_id)})

    # then
    assert _listed_ids(response) == {wanted.pk}
    assert other.pk not in _listed_ids(response)


@pytest.mark.parametrize("spell", [str, str.lower, lambda r: f"{r[:5]}-{r[5:]}"])
def test_payment_list_search_finds_booking_reference(client, spell):
    # given
    wanted = PaymentFactory()
    other = PaymentFactory()
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"q": spell(wanted.booking.reference)})

    # then
    assert _listed_ids(response) == {wanted.pk}
    assert other.pk not in _listed_ids(response)
    assert wanted.booking.reference in response.content.decode()


def test_payment_list_search_with_text_finds_nothing(client):
    # given
    PaymentFactory()
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"q": "no such thing"})

    # then
    assert response.status_code == 200
    assert _listed_ids(response) == set()


def test_payment_list_masks_phone_and_colours_status(client):
    # given
    PaymentFactory(phone_number="254712345678", completed=True)
    staff = _staff_client(client)

    # when
    html = staff.get(LIST_URL).content.decode()

    # then
    assert "2547******678" in html
    assert "254712345678" not in html
    assert 'class="payment-status payment-status-completed"' in html


def _list_queries(client, count: int) -> int:
    PaymentFactory.create_batch(count, failed=True)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= count
    return len(queries)


def test_payment_list_runs_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    # given: the result-code choices are cached after the first page
    staff = _staff_client(client)
    staff.get(LIST_URL)
    with_five = _list_queries(staff, 5)

    # when
    with_fifty_five = _list_queries(staff, 45)

    # then
    assert with_fifty_five == with_five
    with django_assert_max_num_queries(with_five):
        staff.get(LIST_URL, {"stuck": "yes", "q": "0712345678"})


def _client_named(username: str, first: str = "", last: str = ""):
    return UserFactory(username=username, first_name=first, last_name=last)


def test_payment_list_shows_the_bookings_client(client):
    # given
    wanjiru = _client_named("wanjiru", "Wanjiru", "Kamau")
    PaymentFactory(booking__client=wanjiru)
    staff = _staff_client(client)

    # when
    html = staff.get(LIST_URL).content.decode()

    # then
    assert "wanjiru (Wanjiru Kamau)" in html


@pytest.mark.parametrize(
    "term",
    ["wanjiru", "WANJIRU", "Wanjiru", "kamau", "Wanjiru Kamau", " wanjiru kamau "],
)
def test_payment_list_search_finds_client_by_username_or_name(client, term):
    # given
    wanjiru = _client_named("wanjiru", "Wanjiru", "Kamau")
    wanted = PaymentFactory(booking__client=wanjiru)
    PaymentFactory(booking__client=_client_named("otieno", "Otieno", "Odhiambo"))
    staff = _staff_client(client)

    # when
    response = staff.get(LIST_URL, {"q": term})

    # then
    assert _listed_ids(response) == {wanted.pk}


def test_payment_list_with_client_column_runs_fixed_number_of_queries(client):
    # given: clients of their own for every payment
    staff = _staff_client(client)
    staff.get(LIST_URL)
    with_five = _list_queries(staff, 5)

    # when
    with_twenty_five = _list_queries(staff, 20)

    # then
    assert with_twenty_five == with_five
