"""PostgreSQL only: the exclusion constraint and concurrent booking."""

from datetime import time, timedelta
from functools import partial

import pytest
from django.db import IntegrityError
from rest_framework.test import APIClient

from bookings.tests.clock import TOMORROW, at
from bookings.tests.factories import (
    BookingFactory,
    ConsultationTypeFactory,
    UserFactory,
    WeeklyAvailabilityFactory,
)
from core.tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_exclusion_constraint_refuses_overlapping_holds_with_other_starts():
    # given
    first = BookingFactory(start=at(10), duration=60)
    # when / then
    with pytest.raises(IntegrityError):
        BookingFactory(advocate=first.advocate, start=at(10, 30), confirmed=True)


@pytest.mark.django_db
def test_exclusion_constraint_lets_adjacent_bookings_be():
    # given
    first = BookingFactory(start=at(10), duration=60)
    # when
    second = BookingFactory(advocate=first.advocate, start=at(11), confirmed=True)
    # then
    assert second.pk is not None


@pytest.mark.django_db(transaction=True)
def test_ten_clients_booking_one_slot_at_once_one_wins(time_machine):
    # given
    time_machine.move_to(at(8) - timedelta(days=1), tick=True)
    offer = ConsultationTypeFactory()
    WeeklyAvailabilityFactory(
        advocate=offer.advocate,
        weekday=TOMORROW.weekday(),
        start_time=time(9),
        end_time=time(12),
    )
    clients = [UserFactory() for _ in range(10)]
    body = {
        "advocate_id": offer.advocate_id,
        "date": TOMORROW.isoformat(),
        "time": "10:00",
        "consultation_type": "video",
        "duration": 30,
    }
    statuses: list[int] = []

    def book(user) -> None:
        api = APIClient()
        api.force_authenticate(user)
        response = api.post("/api/documents/consultations/book", body, format="json")
        statuses.append(response.status_code)

    # when
    errors = run_at_once(*[partial(book, user) for user in clients])
    # then
    assert errors == []
    assert sorted(statuses) == [201] + [409] * 9


@pytest.mark.django_db(transaction=True)
def test_one_client_booking_three_advocates_at_once_holds_two(time_machine):
    # given: three advocates (three advocate locks), one client
    time_machine.move_to(at(8) - timedelta(days=1), tick=True)
    offers = [ConsultationTypeFactory() for _ in range(3)]
    for offer in offers:
        WeeklyAvailabilityFactory(
            advocate=offer.advocate,
            weekday=TOMORROW.weekday(),
            start_time=time(9),
            end_time=time(12),
        )
    client = UserFactory()
    statuses: list[int] = []

    def book(offer) -> None:
        api = APIClient()
        api.force_authenticate(client)
        body = {
            "advocate_id": offer.advocate_id,
            "date": TOMORROW.isoformat(),
            "time": "10:00",
            "consultation_type": "video",
            "duration": 30,
        }
        response = api.post("/api/documents/consultations/book", body, format="json")
        statuses.append(response.status_code)

    # when
    errors = run_at_once(*[partial(book, offer) for offer in offers])
    # then
    assert errors == []
    assert sorted(statuses) == [201, 201, 409]
