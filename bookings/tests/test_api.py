from datetime import time, timedelta

import pytest
from django.apps import apps
from django.urls import reverse

from bookings.models import Booking
from bookings.references import booking_reference_normalise
from bookings.tests.clock import NOW, TOMORROW, at
from bookings.tests.factories import (
    AdvocateFactory,
    BookingFactory,
    ConsultationTypeFactory,
    PracticeAreaFactory,
    UserFactory,
    WeeklyAvailabilityFactory,
)

pytestmark = pytest.mark.django_db

BOOK_URL = "/api/documents/consultations/book"


def _offer(price: int = 3000):
    offer = ConsultationTypeFactory(price=price)
    WeeklyAvailabilityFactory(
        advocate=offer.advocate,
        weekday=TOMORROW.weekday(),
        start_time=time(9),
        end_time=time(11),
    )
    return offer


def _book_body(offer, **overrides) -> dict:
    body = {
        "advocate_id": offer.advocate_id,
        # What the SPA sends for 2 December picked in Nairobi.
        "date": "2026-12-01T21:00:00.000Z",
        "time": "10:00 AM",
        "consultation_type": "video",
        "duration": 30,
        "amount": 1,  # ignored: the server prices the booking
    }
    return {**body, **overrides}


def _as(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_book_path_is_the_spas():
    # when / then
    assert reverse("bookings:book") == BOOK_URL


def test_advocates_list_is_public_and_shows_offers(api_client):
    # given
    offer = ConsultationTypeFactory(price=3000)
    offer.advocate.practice_areas.set([PracticeAreaFactory(name="Family law")])
    AdvocateFactory(inactive=True)
    # when
    response = api_client.get("/api/advocates/")
    # then
    assert response.status_code == 200
    [advocate] = response.json()["results"]
    assert advocate["id"] == offer.advocate_id
    assert advocate["practice_areas"] == ["Family law"]
    assert advocate["consultation_types"] == [
        {"code": "video", "name": "Video consultation", "duration": 30, "price": 3000}
    ]


def test_advocates_list_runs_a_constant_number_of_queries(
    api_client, django_assert_max_num_queries
):
    # given
    for _ in range(5):
        ConsultationTypeFactory().advocate.practice_areas.set([PracticeAreaFactory()])
    # when / then
    with django_assert_max_num_queries(4):
        api_client.get("/api/advocates/")


def test_slots_lists_free_times_with_offsets(api_client, frozen_now):
    # given
    offer = _offer()
    BookingFactory(advocate=offer.advocate, start=at(9, 30))
    # when
    response = api_client.get(
        f"/api/advocates/{offer.advocate_id}/slots/",
        {"date": "2026-12-02", "consultation_type": "video", "duration": 30},
    )
    # then
    assert response.status_code == 200
    assert response.json() == [
        {"time": "09:00", "start": "2026-12-02T09:00:00+03:00"},
        {"time": "10:00", "start": "2026-12-02T10:00:00+03:00"},
        {"time": "10:30", "start": "2026-12-02T10:30:00+03:00"},
    ]


def test_slots_of_an_unknown_advocate_is_404(api_client, frozen_now):
    # when
    response = api_client.get(
        "/api/advocates/999/slots/",
        {"date": "2026-12-02", "consultation_type": "video"},
    )
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_slots_without_a_date_is_400_in_the_error_shape(api_client, frozen_now):
    # given
    offer = _offer()
    # when
    response = api_client.get(
        f"/api/advocates/{offer.advocate_id}/slots/", {"consultation_type": "video"}
    )
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "date" in error["fields"]


def test_book_creates_a_pending_booking_at_the_servers_price(api_client, frozen_now):
    # given
    offer = _offer(price=3000)
    client = UserFactory()
    # when
    response = _as(api_client, client).post(BOOK_URL, _book_body(offer), format="json")
    # then
    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get(pk=body["booking_id"])
    assert body["amount"] == 3000
    assert body["status"] == "pending_payment"
    assert body["expires_at"] == (NOW + timedelta(minutes=15)).isoformat()
    assert body["start"] == "2026-12-02T10:00:00+03:00"
    assert booking.client == client
    assert booking.start == at(10)


def test_book_accepts_a_plain_date_and_24h_time(api_client, frozen_now):
    # given
    offer = _offer()
    body = _book_body(offer, date="2026-12-02", time="10:30")
    # when
    response = _as(api_client, UserFactory()).post(BOOK_URL, body, format="json")
    # then
    assert response.status_code == 201
    assert response.json()["start"] == "2026-12-02T10:30:00+03:00"


def test_book_requires_authentication(api_client, frozen_now):
    # given
    offer = _offer()
    # when
    response = api_client.post(BOOK_URL, _book_body(offer), format="json")
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_book_a_taken_slot_is_409(api_client, frozen_now):
    # given
    offer = _offer()
    BookingFactory(advocate=offer.advocate, start=at(10), confirmed=True)
    # when
    response = _as(api_client, UserFactory()).post(
        BOOK_URL, _book_body(offer), format="json"
    )
    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_taken"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"advocate_id": 999}, "unknown_advocate"),
        ({"consultation_type": "phone"}, "consultation_not_offered"),
        ({"duration": 60}, "consultation_not_offered"),
        ({"time": "08:00"}, "slot_not_available"),
        ({"date": "2026-11-30"}, "slot_in_past"),
        ({"time": "noon"}, "invalid"),
        ({"date": "someday"}, "invalid"),
        ({"consultation_type": "telepathy"}, "invalid"),
    ],
)
def test_book_refusals_are_400_in_the_error_shape(
    api_client, frozen_now, overrides, code
):
    # given
    offer = _offer()
    # when
    response = _as(api_client, UserFactory()).post(
        BOOK_URL, _book_body(offer, **overrides), format="json"
    )
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["fields"], dict)


def test_book_removes_the_slot_from_the_free_list(api_client, frozen_now):
    # given
    offer = _offer()
    _as(api_client, UserFactory()).post(BOOK_URL, _book_body(offer), format="json")
    # when
    response = api_client.get(
        f"/api/advocates/{offer.advocate_id}/slots/",
        {"date": "2026-12-02", "consultation_type": "video"},
    )
    # then
    assert "10:00" not in [slot["time"] for slot in response.json()]


def test_bookings_list_shows_own_bookings_only(api_client):
    # given
    mine = BookingFactory()
    BookingFactory()
    # when
    response = _as(api_client, mine.client).get("/api/bookings/")
    # then
    assert response.status_code == 200
    assert [b["id"] for b in response.json()["results"]] == [mine.pk]


def test_bookings_list_runs_a_constant_number_of_queries(
    api_client, django_assert_max_num_queries
):
    # given
    client = UserFactory()
    for booking in BookingFactory.create_batch(5, client=client):
        _payment(booking, status="failed")
    # when / then: the page and its count, and the user's permissions
    # (own and groups', for view_booking), whatever the number of bookings
    with django_assert_max_num_queries(4):
        _as(api_client, client).get("/api/bookings/")


def test_booking_detail_of_another_client_is_404(api_client):
    # given
    booking = BookingFactory()
    # when
    response = _as(api_client, UserFactory()).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_booking_detail_shows_the_latest_payment(api_client, frozen_now, time_machine):
    # given
    booking = BookingFactory(confirmed=True)
    _payment(booking, status="failed")
    time_machine.shift(timedelta(minutes=1))
    _payment(booking, status="completed", mpesa_receipt_number="TL1ABC2DEF")
    # when
    response = _as(api_client, booking.client).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.json()["latest_payment"] == {
        "status": "completed",
        "mpesa_receipt_number": "TL1ABC2DEF",
    }


def test_booking_detail_without_payment_has_null_latest_payment(api_client):
    # given
    booking = BookingFactory()
    # when
    response = _as(api_client, booking.client).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.json()["latest_payment"] is None


def _receipt(
    booking: Booking,
    number: str,
    *,
    allocation: str = "allocated",
    payment_id: int | None = None,
    **facts,
):
    """A receipt in the ledger through its one writer (payments.services).

    Imported here: bookings' own code and tests never import payments.
    """
    from payments.services.ledger import ReceiptFacts, receipt_record

    reason = "" if allocation == "allocated" else "duplicate_payment"
    defaults = {
        "channel": "paybill",
        "amount": booking.amount,
        "source": "c2b_confirmation",
        "account_reference": booking.reference,
    }
    return receipt_record(
        facts=ReceiptFacts(receipt_number=number, **{**defaults, **facts}),
        allocation=allocation,
        unallocated_reason=reason,
        payment_id=payment_id,
        booking_id=booking.pk if allocation == "allocated" else None,
    )


def test_booking_detail_shows_a_paybill_receipt_without_a_payment(api_client):
    # given: paid by Paybill by hand, no STK payment at all
    booking = BookingFactory(confirmed=True)
    _receipt(booking, "TL2PAYBIL9")
    # when
    response = _as(api_client, booking.client).get(f"/api/bookings/{booking.pk}/")
    # then
    body = response.json()
    assert body["latest_payment"] is None
    assert body["receipt"] == {"receipt_number": "TL2PAYBIL9", "channel": "paybill"}


def test_booking_detail_shows_the_stk_receipt_as_its_receipt(api_client):
    # given
    booking = BookingFactory(confirmed=True)
    payment = _payment(booking, status="completed", mpesa_receipt_number="TL3STK0001")
    _receipt(
        booking,
        "TL3STK0001",
        channel="stk",
        source="stk_callback",
        account_reference="",
        payment_id=payment.pk,
    )
    # when
    response = _as(api_client, booking.client).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.json()["receipt"] == {
        "receipt_number": "TL3STK0001",
        "channel": "stk",
    }


def test_booking_detail_ignores_unallocated_money_for_its_receipt(api_client):
    # given: a second payment for the booking stayed unallocated
    booking = BookingFactory()
    _receipt(booking, "TL4DUPLIC8", allocation="unallocated")
    # when
    response = _as(api_client, booking.client).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.json()["receipt"] is None


def test_booking_detail_without_a_receipt_has_null_receipt(api_client):
    # given
    booking = BookingFactory()
    # when
    response = _as(api_client, booking.client).get(f"/api/bookings/{booking.pk}/")
    # then
    assert response.json()["receipt"] is None


def test_bookings_list_shows_each_bookings_receipt(api_client):
    # given
    paid = BookingFactory(confirmed=True)
    unpaid = BookingFactory(client=paid.client)
    _receipt(paid, "TL5LISTED1")
    # when
    listed = _as(api_client, paid.client).get("/api/bookings/").json()["results"]
    # then
    receipts = {b["id"]: b["receipt"] for b in listed}
    assert receipts == {
        paid.pk: {"receipt_number": "TL5LISTED1", "channel": "paybill"},
        unpaid.pk: None,
    }


def test_booking_cancel_of_a_paid_booking_is_refund_due(api_client, frozen_now):
    # given
    booking = BookingFactory(confirmed=True)
    # when
    response = _as(api_client, booking.client).post(
        f"/api/bookings/{booking.pk}/cancel/"
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["payment_status"]) == ("cancelled", "refund_due")


def test_booking_cancel_of_another_clients_booking_is_404(api_client, frozen_now):
    # given
    booking = BookingFactory()
    # when
    response = _as(api_client, UserFactory()).post(
        f"/api/bookings/{booking.pk}/cancel/"
    )
    # then
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_booking_cancel_of_a_completed_booking_is_409(api_client, frozen_now):
    # given
    booking = BookingFactory(completed=True)
    # when
    response = _as(api_client, booking.client).post(
        f"/api/bookings/{booking.pk}/cancel/"
    )
    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"


def test_schema_documents_the_booking_endpoints(api_client):
    # when
    response = api_client.get("/api/schema/", {"format": "json"})
    # then
    paths = response.json()["paths"]
    assert "/api/documents/consultations/book" in paths
    assert "/api/advocates/{id}/slots/" in paths
    assert "/api/bookings/{id}/cancel/" in paths


def _payment(booking: Booking, **fields):
    """A payment row for the booking, through the reverse relation."""
    payment_model = apps.get_model("payments", "Payment")
    defaults = {"amount": booking.amount, "phone_number": "254708374149"}
    return payment_model.objects.create(booking=booking, **{**defaults, **fields})


def _slots(api_client, offer, day: str):
    return api_client.get(
        f"/api/advocates/{offer.advocate_id}/slots/",
        {"date": day, "consultation_type": "video", "duration": 30},
    )


OUTSIDE_THE_WINDOW = [
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00Z",
    "2026-11-30",  # yesterday
    "2027-03-02",  # 91 days ahead
]


@pytest.mark.parametrize("day", OUTSIDE_THE_WINDOW)
def test_slots_for_a_day_outside_the_bookable_window_is_400(
    api_client, frozen_now, day
):
    # given
    offer = _offer()
    # when
    response = _slots(api_client, offer, day)
    # then
    assert response.status_code == 400
    assert "date" in response.json()["error"]["fields"]


@pytest.mark.parametrize("day", OUTSIDE_THE_WINDOW)
def test_book_a_day_outside_the_bookable_window_is_400(api_client, frozen_now, day):
    # given
    offer = _offer()
    # when
    response = _as(api_client, UserFactory()).post(
        BOOK_URL, _book_body(offer, date=day), format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_book_more_than_max_days_ahead_is_refused_on_the_date(
    api_client, frozen_now, settings
):
    # given: the advocate works on the day 8 days ahead
    settings.BOOKING_MAX_DAYS_AHEAD = 7
    offer = _offer()
    day = TOMORROW + timedelta(days=7)
    # when
    response = _as(api_client, UserFactory()).post(
        BOOK_URL, _book_body(offer, date=day.isoformat()), format="json"
    )
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "slot_too_far_ahead"
    assert "date" in error["fields"]


def test_book_exactly_max_days_ahead_is_allowed(api_client, frozen_now, settings):
    # given
    settings.BOOKING_MAX_DAYS_AHEAD = 8
    offer = _offer()
    day = TOMORROW + timedelta(days=7)
    # when
    response = _as(api_client, UserFactory()).post(
        BOOK_URL, _book_body(offer, date=day.isoformat()), format="json"
    )
    # then
    assert response.status_code == 201


def test_slots_exactly_max_days_ahead_are_listed(api_client, frozen_now, settings):
    # given
    settings.BOOKING_MAX_DAYS_AHEAD = 8
    offer = _offer()
    # when
    response = _slots(api_client, offer, (TOMORROW + timedelta(days=7)).isoformat())
    # then
    assert response.status_code == 200
    assert len(response.json()) == 4


def test_book_a_third_unpaid_booking_is_409(api_client, frozen_now):
    # given: a client already holds two unpaid slots
    offer = _offer()
    client = UserFactory()
    BookingFactory(client=client, advocate=offer.advocate, start=at(9))
    BookingFactory(client=client, start=at(9))
    # when
    response = _as(api_client, client).post(BOOK_URL, _book_body(offer), format="json")
    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_unpaid_bookings"
    assert Booking.objects.filter(client=client).count() == 2


def test_book_with_paid_and_lapsed_bookings_is_allowed(api_client, frozen_now):
    # given: one paid booking and one whose hold ran out, one live hold
    offer = _offer()
    client = UserFactory()
    BookingFactory(client=client, start=at(9), confirmed=True)
    BookingFactory(
        client=client, start=at(9, 30), expires_at=NOW - timedelta(seconds=1)
    )
    BookingFactory(client=client, start=at(10, 30))
    # when
    response = _as(api_client, client).post(BOOK_URL, _book_body(offer), format="json")
    # then
    assert response.status_code == 201


def test_book_unpaid_limit_follows_the_setting(api_client, frozen_now, settings):
    # given
    settings.BOOKING_MAX_UNPAID_HOLDS = 1
    offer = _offer()
    client = UserFactory()
    BookingFactory(client=client, start=at(9))
    # when
    response = _as(api_client, client).post(BOOK_URL, _book_body(offer), format="json")
    # then
    assert response.status_code == 409


def test_book_is_throttled_per_user(api_client, frozen_now):
    # given: twenty booking requests this hour (refused or not)
    offer = _offer()
    client = _as(api_client, UserFactory())
    for _ in range(20):
        client.post(BOOK_URL, _book_body(offer, time="08:00"), format="json")
    # when
    response = client.post(BOOK_URL, _book_body(offer), format="json")
    # then
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"


def test_book_answers_the_bookings_reference(api_client, frozen_now):
    # given
    offer = _offer()
    # when
    response = _as(api_client, UserFactory()).post(
        BOOK_URL, _book_body(offer), format="json"
    )
    # then
    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get(pk=body["booking_id"])
    assert body["reference"] == booking.reference
    assert booking_reference_normalise(body["reference"]) == body["reference"]


def test_bookings_list_and_detail_show_the_reference(api_client):
    # given
    booking = BookingFactory()
    client = _as(api_client, booking.client)
    # when
    listed = client.get("/api/bookings/").json()["results"]
    detail = client.get(f"/api/bookings/{booking.pk}/").json()
    # then
    assert [b["reference"] for b in listed] == [booking.reference]
    assert detail["reference"] == booking.reference
