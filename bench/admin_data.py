"""Bulk data for the admin-list benchmark (bench/admin_list.py).

N bookings with one payment each, in a realistic mix of statuses, one
payment every SPACING_SECONDS up to now, and the status-change event of each
needs-review payment. Django must be set up before ``create_data`` runs.
"""

ADVOCATES = 20
CLIENTS = 1000
SPACING_SECONDS = 75  # between two payments: 100,000 span ~87 days
RESULT_CODES = ("1032", "1037", "2001", "1")


def payment_status(index: int) -> str:
    """60% completed, 15% failed, 10% expired, 5% each pending, initiated
    and needs review (all open ones older than the STK lifetime: the worst
    case for the reconciliation page's stuck list)."""
    slot = index % 20
    if slot < 12:
        return "completed"
    if slot < 15:
        return "failed"
    if slot < 17:
        return "expired"
    return ("pending", "initiated", "needs_review")[slot - 17]


BOOKING_STATUS = {
    "completed": "confirmed",
    "pending": "pending_payment",
    "initiated": "pending_payment",
    "failed": "cancelled",
    "expired": "expired",
    "needs_review": "cancelled",
}


def phone_of(index: int) -> str:
    """The client's phone of payment ``index`` (CLIENTS distinct phones)."""
    return f"2547{index % CLIENTS:08d}"


def receipt_of(index: int) -> str:
    """The M-Pesa receipt of payment ``index`` (if completed)."""
    return f"BNC{index:07d}"


def create_people():
    """The superuser, CLIENTS clients and ADVOCATES advocates."""
    from django.contrib.auth import get_user_model

    from bookings.models import Advocate

    user_model = get_user_model()
    admin = user_model.objects.create_superuser("bench-admin", "a@example.com", "x")
    clients = user_model.objects.bulk_create(
        [user_model(username=f"client{i}") for i in range(CLIENTS)]
    )
    advocates = Advocate.objects.bulk_create(
        [Advocate(name=f"Advocate {i}", bio="bench") for i in range(ADVOCATES)]
    )
    return admin, clients, advocates


def build_booking(index: int, clients, advocates, base):
    """One advocate's bookings are an hour apart: holding ones never overlap."""
    from datetime import timedelta

    from bookings.models import Booking

    start = base + timedelta(hours=index // ADVOCATES)
    return Booking(
        client=clients[index % CLIENTS],
        advocate=advocates[index % ADVOCATES],
        consultation_type="video",
        duration=30,
        start=start,
        end=start + timedelta(minutes=30),
        amount=3000,
        status=BOOKING_STATUS[payment_status(index)],
        payment_status="paid" if payment_status(index) == "completed" else "unpaid",
        expires_at=start,
    )


def build_payment(index: int, booking):
    """Payment ``index`` of ``booking``, with the fields its status implies."""
    from payments.models import Payment

    status = payment_status(index)
    payment = Payment(
        booking=booking,
        amount=booking.amount,
        phone_number=phone_of(index),
        initiated_by_id=booking.client_id,
        status=status,
        merchant_request_id="" if status == "initiated" else f"bench-{index}",
        checkout_request_id=None if status == "initiated" else f"ws_CO_A{index:09d}",
    )
    if status == "completed":
        payment.result_code = "0"
        payment.mpesa_receipt_number = receipt_of(index)
        payment.paid_amount = booking.amount
        payment.paid_phone_number = payment.phone_number
    elif status == "failed":
        payment.result_code = RESULT_CODES[index % len(RESULT_CODES)]
        payment.failure_reason = "bench failure"
    return payment


def create_data(count: int) -> object:
    """``count`` bookings and payments; returns the superuser."""
    from datetime import timedelta

    from django.utils import timezone

    from bookings.models import Booking
    from payments.models import Payment

    admin, clients, advocates = create_people()
    base = timezone.now() - timedelta(days=100)
    step = 10_000
    for first in range(0, count, step):
        indexes = range(first, min(first + step, count))
        bookings = Booking.objects.bulk_create(
            [build_booking(i, clients, advocates, base) for i in indexes]
        )
        Payment.objects.bulk_create(
            [build_payment(i, b) for i, b in zip(indexes, bookings, strict=True)]
        )
    spread_times()
    create_review_events()
    return admin


def spread_times() -> None:
    """created_at is auto_now_add: one payment every SPACING_SECONDS, the
    newest now; accepted 1 s and updated 30 s after creation."""
    from django.db import connection

    from payments.models import Payment

    table = Payment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET created_at = now() - "  # noqa: S608 (our table)
            f"((SELECT max(id) FROM {table}) - id) * interval '%s seconds'",
            [SPACING_SECONDS],
        )
        cursor.execute(
            f"UPDATE {table} SET updated_at = created_at + interval '30 seconds', "  # noqa: S608
            "accepted_at = CASE WHEN checkout_request_id IS NULL THEN NULL "
            "ELSE created_at + interval '1 second' END"
        )
        cursor.execute(f"VACUUM ANALYZE {table}")


def create_review_events() -> None:
    """The status-change event that sent each needs-review payment there."""
    from payments.models import Payment, PaymentEvent

    PaymentEvent.objects.bulk_create(
        PaymentEvent(
            payment_id=pk,
            kind=PaymentEvent.Kind.STATUS_CHANGE,
            from_status="pending",
            to_status="needs_review",
            reason="amount mismatch (bench)",
        )
        for pk in Payment.objects.filter(status="needs_review").values_list(
            "pk", flat=True
        )
    )
