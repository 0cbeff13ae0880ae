"""The payments CSV export of the staff console, streamed in chunks.

Phone numbers are masked (the export leaves the admin), times are
Nairobi's, and a cell that a spreadsheet would read as a formula is
quoted (CSV injection).
"""

from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from core.time import NAIROBI
from payments.models import Payment
from payments.phone import mask_phone

CSV_HEADER = (
    "id",
    "created_at",
    "booking_id",
    "amount",
    "status",
    "phone",
    "result_code",
    "result_desc",
    "failure_reason",
    "mpesa_receipt_number",
    "paid_amount",
    "transaction_date",
    "merchant_request_id",
    "checkout_request_id",
)


def payment_csv_rows(payments: QuerySet[Payment]) -> Iterator[list[str]]:
    """The header, then one row per payment, read in chunks (for streaming).

    Phone numbers are masked: the export leaves the admin.
    """
    yield list(CSV_HEADER)
    fields = [name if name != "phone" else "phone_number" for name in CSV_HEADER]
    for values in payments.values_list(*fields).iterator(chunk_size=500):
        row = dict(zip(fields, values, strict=True))
        row["phone_number"] = mask_phone(row["phone_number"])
        yield [_csv_text(row[name]) for name in fields]


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value, NAIROBI).isoformat()
    text = str(value)
    # A cell starting with = + - @ is a formula to spreadsheets (CSV
    # injection); result descriptions come from outside.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
