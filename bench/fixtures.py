"""Bulk creation of benchmark data: bookings and their pending payments."""

from datetime import timedelta

from django.utils import timezone

CHECKOUT_PREFIX = "ws_CO_BENCH"


def checkout_id(index: int) -> str:
    return f"{CHECKOUT_PREFIX}{index:08d}"


def create_client(username: str = "bench-client"):
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    return user


def create_bookings(count: int, *, client=None, amount: int = 3000) -> list:
    """``count`` bookings pending payment, one per hour, holds valid a day."""
    from bookings.models import Advocate, Booking

    client = client or create_client()
    advocate = Advocate.objects.create(name="Bench Advocate", bio="bench")
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    start += timedelta(days=1)
    hold = timezone.now() + timedelta(days=1)
    bookings = [
        Booking(
            client=client,
            advocate=advocate,
            consultation_type="video",
            duration=30,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
            amount=amount,
            expires_at=hold,
        )
        for i in range(count)
    ]
    return Booking.objects.bulk_create(bookings, batch_size=1000)


def create_pending_payments(
    count: int, *, phone: str = "254708374149", accepted_ago: timedelta | None = None
) -> list:
    """``count`` pending payments (as after Daraja accepted the push)."""
    from payments.models import Payment

    client = create_client()
    bookings = create_bookings(count, client=client)
    accepted = timezone.now() - (accepted_ago or timedelta(0))
    payments = [
        Payment(
            booking=booking,
            amount=booking.amount,
            phone_number=phone,
            initiated_by=client,
            status=Payment.Status.PENDING,
            merchant_request_id=f"bench-{i}",
            checkout_request_id=checkout_id(i),
            accepted_at=accepted,
        )
        for i, booking in enumerate(bookings)
    ]
    created = Payment.objects.bulk_create(payments, batch_size=1000)
    if accepted_ago:
        # created_at is auto_now_add: backdate it so reconciliation sees
        # the payments as old enough to query.
        Payment.objects.filter(pk__in=[p.pk for p in created]).update(
            created_at=accepted
        )
    return created
