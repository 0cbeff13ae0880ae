"""What a success report says, and whether it adds up.

A report is whatever told us money moved: a callback, an STK query answer
(which speaks of our own push and carries no amount or receipt), later a
C2B confirmation. A report that does not add up never completes a payment:
``report_problem`` names what is wrong, and the caller sends the payment
to ``needs_review`` with that reason.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.money import format_kes
from payments.daraja.callbacks import StkCallback
from payments.models import Payment

ReviewCode = Payment.ReviewCode

# Daraja's receipts are 10 upper-case letters and digits today; allow up
# to 20 so a longer format does not lose money, but nothing else.
RECEIPT_FORMAT = re.compile(r"[A-Z0-9]{1,20}")
# Largest paid amount ``Payment.paid_amount`` (12 digits, 2 places) holds.
_STORABLE_AMOUNT = Decimal(10) ** 10


@dataclass(frozen=True, slots=True)
class SuccessReport:
    """What a source says about money that moved (callback or query).

    ``reports_amount``: this source states the amount paid (a callback
    does), so a missing or unusable amount is a problem, not silence.
    ``requires_receipt``: a success without a receipt does not add up.
    ``amount_problem``: why the reported amount is unusable, if it is.
    """

    source: str
    requires_receipt: bool = False
    reports_amount: bool = False
    result_code: str = "0"
    result_desc: str = ""
    mpesa_receipt_number: str | None = None
    paid_amount: Decimal | None = None
    amount_problem: str = ""
    transaction_date: datetime | None = None
    paid_phone_number: str = ""
    # The stored event that carried this report (its ledger sighting).
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReportProblem:
    """Why a report cannot complete a payment: a code and a reason."""

    code: str
    reason: str


def receipt_is_valid(receipt: str | None) -> bool:
    """True for 1 to 20 upper-case letters and digits."""
    return bool(receipt) and RECEIPT_FORMAT.fullmatch(receipt) is not None


def report_problem(
    payment: Payment, report: SuccessReport, *, receipt_elsewhere: bool
) -> ReportProblem | None:
    """The first thing in ``report`` that does not add up, or None.

    ``receipt_elsewhere``: another payment already holds the receipt.
    """
    problem = _amount_problem(payment, report)
    if problem:
        return problem
    receipt = report.mpesa_receipt_number
    if not receipt:
        if report.requires_receipt:
            return ReportProblem(
                ReviewCode.RECEIPT_MISSING,
                "success reported without an M-Pesa receipt",
            )
        return None
    if not receipt_is_valid(receipt):
        return ReportProblem(
            ReviewCode.RECEIPT_INVALID,
            f"the M-Pesa receipt {_shown(receipt)} is not 1-20 upper-case "
            "letters and digits",
        )
    if receipt_elsewhere:
        return ReportProblem(
            ReviewCode.RECEIPT_DUPLICATE,
            f"receipt {receipt} is already recorded on another payment",
        )
    return None


def _amount_problem(payment: Payment, report: SuccessReport) -> ReportProblem | None:
    if not report.reports_amount:
        return None
    amount = report.paid_amount
    if amount is None:
        detail = report.amount_problem or "missing"
        code = (
            ReviewCode.AMOUNT_MISSING
            if detail.startswith("missing")
            else ReviewCode.AMOUNT_INVALID
        )
        return ReportProblem(code, f"paid amount {detail}")
    if amount != amount.to_integral_value():
        return ReportProblem(
            ReviewCode.AMOUNT_INVALID, f"paid amount {amount} is not whole shillings"
        )
    if amount != payment.amount:
        return ReportProblem(
            ReviewCode.AMOUNT_MISMATCH,
            f"paid amount {format_kes(amount)} differs from the "
            f"{format_kes(payment.amount)} asked",
        )
    return None


def storable_amount(amount: Decimal | None) -> Decimal | None:
    """``amount`` if ``Payment.paid_amount`` can hold it exactly, else None
    (the raw report keeps the value either way)."""
    if amount is None or not amount.is_finite() or abs(amount) >= _STORABLE_AMOUNT:
        return None
    return amount if amount == amount.quantize(Decimal("0.01")) else None


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 30 else f"{text[:27]}...'"


def success_report_from_callback(
    callback: StkCallback, *, source: str = "callback", event_id: int | None = None
) -> SuccessReport:
    """The money facts a success callback carries."""
    return SuccessReport(
        source=source,
        # A query that found this stored callback confirms the payment on
        # Daraja's word; the callback's own amount must still add up.
        requires_receipt=source in ("callback", "verified callback"),
        reports_amount=True,
        result_code=callback.result_code,
        result_desc=callback.result_desc,
        mpesa_receipt_number=callback.mpesa_receipt_number,
        paid_amount=callback.amount,
        amount_problem=callback.amount_problem,
        transaction_date=callback.transaction_date,
        paid_phone_number=callback.phone_number or "",
        event_id=event_id,
    )
