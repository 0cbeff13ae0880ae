"""factory-boy factories: defaults are valid objects; Traits give states."""

from datetime import time, timedelta

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from bookings.availability import local_datetime
from bookings.models import (
    Advocate,
    Booking,
    ConsultationKind,
    ConsultationType,
    DayOff,
    PracticeArea,
    WeeklyAvailability,
)
from bookings.references import booking_reference_new
from core.time import NAIROBI

Status = Booking.Status
PaymentStatus = Booking.PaymentStatus


def tomorrow_at(hour: int, minute: int = 0):
    """Tomorrow at ``hour:minute`` in Africa/Nairobi, as an aware datetime."""
    today = timezone.localtime(timezone.now(), NAIROBI).date()
    return local_datetime(today + timedelta(days=1), time(hour, minute))


class UserFactory(DjangoModelFactory[get_user_model()]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"client{n}")

    class Params:
        staff = factory.Trait(is_staff=True)


class PracticeAreaFactory(DjangoModelFactory[PracticeArea]):
    class Meta:
        model = PracticeArea
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Area {n}")


class AdvocateFactory(DjangoModelFactory[Advocate]):
    class Meta:
        model = Advocate
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Advocate {n}")
    bio = "Advocate of the High Court of Kenya."
    active = True

    class Params:
        inactive = factory.Trait(active=False)

    @factory.post_generation
    def practice_areas(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.practice_areas.set(extracted)


class ConsultationTypeFactory(DjangoModelFactory[ConsultationType]):
    class Meta:
        model = ConsultationType

    advocate = factory.SubFactory(AdvocateFactory)
    code = ConsultationKind.VIDEO
    duration = 30
    price = 3000


class WeeklyAvailabilityFactory(DjangoModelFactory[WeeklyAvailability]):
    class Meta:
        model = WeeklyAvailability

    advocate = factory.SubFactory(AdvocateFactory)
    weekday = 0
    start_time = time(9)
    end_time = time(17)


class DayOffFactory(DjangoModelFactory[DayOff]):
    class Meta:
        model = DayOff

    advocate = factory.SubFactory(AdvocateFactory)
    date = factory.LazyFunction(lambda: tomorrow_at(0).date())
    reason = "Court"


class BookingFactory(DjangoModelFactory[Booking]):
    """A pending booking tomorrow at 10:00 holding its slot for 15 minutes."""

    class Meta:
        model = Booking

    reference = factory.LazyFunction(booking_reference_new)
    client = factory.SubFactory(UserFactory)
    advocate = factory.SubFactory(AdvocateFactory)
    consultation_type = ConsultationKind.VIDEO
    duration = 30
    start = factory.LazyFunction(lambda: tomorrow_at(10))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.duration))
    amount = 3000
    status = Status.PENDING_PAYMENT
    payment_status = PaymentStatus.UNPAID
    expires_at = factory.LazyFunction(
        lambda: timezone.now() + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    )

    class Params:
        stale_hold = factory.Trait(
            expires_at=factory.LazyFunction(
                lambda: timezone.now() - timedelta(minutes=1)
            )
        )
        confirmed = factory.Trait(
            status=Status.CONFIRMED, payment_status=PaymentStatus.PAID
        )
        expired = factory.Trait(
            status=Status.EXPIRED,
            expires_at=factory.LazyFunction(
                lambda: timezone.now() - timedelta(minutes=1)
            ),
        )
        cancelled = factory.Trait(status=Status.CANCELLED)
        cancelled_paid = factory.Trait(
            status=Status.CANCELLED, payment_status=PaymentStatus.REFUND_DUE
        )
        completed = factory.Trait(
            status=Status.COMPLETED, payment_status=PaymentStatus.PAID
        )
        no_show = factory.Trait(
            status=Status.NO_SHOW, payment_status=PaymentStatus.PAID
        )
