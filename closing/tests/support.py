"""Money on the tested day, written through the real writers (the ledger,
the statement import), at the times the tests choose."""

from datetime import date, datetime, time, timedelta

from bookings.tests.factories import UserFactory
from core.time import NAIROBI
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, Refund
from payments.services.ledger_out import receipt_record_outgoing
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt
from statements.services.importing import statement_import
from statements.tests import support as statement_files

DAY = date(2026, 11, 20)
TODAY = DAY + timedelta(days=5)


def nairobi(day: date, at: time) -> datetime:
    """``at`` on ``day``, Nairobi time (aware)."""
    return datetime.combine(day, at, tzinfo=NAIROBI)


def on_day(hour: int, minute: int = 0, *, day: date = DAY) -> datetime:
    return nairobi(day, time(hour, minute))


def stk_receipt(number: str, *, at: datetime, amount: int = 3000) -> MpesaReceipt:
    """A completed STK payment started at ``at`` and its allocated receipt."""
    payment = PaymentFactory(completed=True, amount=amount, booking__amount=amount)
    Payment.objects.filter(pk=payment.pk).update(created_at=at)
    return allocated_receipt(number, payment=payment, transacted_at=at)


def payment_started(at: datetime, **traits) -> Payment:
    """A payment (``PaymentFactory`` traits) created at ``at``."""
    payment = PaymentFactory(**traits)
    Payment.objects.filter(pk=payment.pk).update(created_at=at, accepted_at=at)
    payment.refresh_from_db()
    return payment


def refund_sent(
    receipt: MpesaReceipt, *, at: datetime, status: str, number: str = ""
) -> Refund:
    """A reversal of ``receipt`` sent at ``at``; completed ones get their
    own outgoing receipt in the ledger."""
    refund = Refund.objects.create(
        receipt=receipt,
        booking=receipt.booking,
        amount=receipt.amount,
        method=Refund.Method.REVERSAL,
        reason=Refund.Reason.GOODWILL,
        status=status,
        requested_by=UserFactory(),
        approved_by=UserFactory(),
        submitted_at=at,
        refund_receipt_number=number,
    )
    if number:
        receipt_record_outgoing(
            refund=refund,
            receipt_number=number,
            transacted_at=at,
            source=MpesaReceiptSighting.Source.DARAJA_RESULT,
            event_id=None,
        )
    return refund


def import_statement(*rows: dict, day: date = DAY, whole_day: bool = True):
    """Import a CSV statement of ``rows`` whose period is ``day`` (or its
    afternoon only); returns the import."""
    start = "00:00:00" if whole_day else "12:00:00"
    period = f"From {day:%d-%m-%Y} {start} To {day:%d-%m-%Y} 23:59:59"
    data = statement_files.csv_file(
        list(rows), block=statement_files.header_block(period)
    )
    result = statement_import(data=data, filename="day.csv", user=UserFactory())
    return result.statement_import


def statement_time(at: datetime) -> str:
    return f"{at.astimezone(NAIROBI):%d-%m-%Y %H:%M:%S}"


__all__ = ["paybill_receipt", "statement_files"]
