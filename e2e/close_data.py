"""A month of payments for the daily close's browser test, written inside
``manage.py shell`` of the stack (like ``e2e.staff``): pushes on each of
the last 30 Nairobi days, some completed with their receipt, and on
yesterday a Paybill and a Till payment, unallocated money and a payment
needing review. Receipts go through the ledger's writer."""

from datetime import date, datetime, time, timedelta

SEEDED_DAYS = 30


def seed_month(username: str, password: str) -> str:
    """Runs inside ``manage.py shell``: the Finance user and the month;
    returns yesterday (Nairobi) as YYYY-MM-DD."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from payments.reporting import nairobi_today

    user = get_user_model().objects.create_user(
        username=username, password=password, is_staff=True
    )
    user.groups.add(Group.objects.get(name="Finance"))
    yesterday = nairobi_today() - timedelta(days=1)
    for back in range(SEEDED_DAYS):
        _pushes_of(yesterday - timedelta(days=back), seed=back)
    _yesterdays_extras(yesterday)
    _yesterdays_statement(yesterday, user)
    return yesterday.isoformat()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    from core.time import NAIROBI

    return datetime.combine(day, time(hour, minute), tzinfo=NAIROBI)


def _pushes_of(day: date, *, seed: int) -> None:
    """3 to 7 pushes, most completed (a varying share)."""
    from payments.models import Payment
    from payments.tests.factories import PaymentFactory
    from payments.tests.ledger_support import allocated_receipt

    pushes = 3 + seed % 5
    for n in range(pushes):
        at = _at(day, 8 + n, 5 * n)
        completed = n < pushes - 1 - seed % 3
        amount = 1500 + 500 * ((seed + n) % 4)
        traits = {"completed": True} if completed else {"failed": True}
        payment = PaymentFactory(amount=amount, booking__amount=amount, **traits)
        Payment.objects.filter(pk=payment.pk).update(created_at=at, accepted_at=at)
        if completed:
            number = f"TE2E{seed:02d}{n:02d}XY"
            allocated_receipt(number, payment=payment, transacted_at=at)


def _yesterdays_extras(day: date) -> None:
    from payments.models import MpesaReceipt, Payment
    from payments.tests.factories import PaymentFactory
    from payments.tests.ledger_support import paybill_receipt

    paybill_receipt("TE2EPB0001", amount=2500, transacted_at=_at(day, 14))
    paybill_receipt(
        "TE2ETILL01",
        amount=700,
        transacted_at=_at(day, 15),
        channel=MpesaReceipt.Channel.TILL,
    )
    review = PaymentFactory(needs_review=True)
    Payment.objects.filter(pk=review.pk).update(created_at=_at(day, 16))


def _yesterdays_statement(day: date, user) -> None:
    from core.time import NAIROBI
    from payments.models import MpesaReceipt
    from statements.services.importing import statement_import
    from statements.tests import support

    def shown(at: datetime) -> str:
        return f"{at.astimezone(NAIROBI):%d-%m-%Y %H:%M:%S}"

    receipts = MpesaReceipt.objects.filter(
        transacted_at__gte=_at(day, 0), transacted_at__lt=_at(day, 23, 59)
    ).exclude(channel=MpesaReceipt.Channel.TILL)
    rows = [
        support.paid_in(
            r.receipt_number, f"{r.amount:,}.00", time=shown(r.transacted_at)
        )
        for r in receipts
    ]
    rows.append(
        support.withdrawn(
            "TE2ECHG001",
            "-34.00",
            reason="Business Pay Bill Charge",
            time=shown(_at(day, 14, 1)),
        )
    )
    period = f"From {day:%d-%m-%Y} 00:00:00 To {day:%d-%m-%Y} 23:59:59"
    data = support.csv_file(rows, block=support.header_block(period))
    statement_import(data=data, filename="yesterday.csv", user=user)
