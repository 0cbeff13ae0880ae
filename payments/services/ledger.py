"""The receipts ledger's one writer: record a sighting of an M-Pesa receipt.

A receipt is created once, by the first source that reports it, with that
source's allocation; every later report of the same receipt (a duplicate
callback, a C2B confirmation of an STK payment, a replay) adds a sighting
and nothing else, so its money is counted once. Called inside the
transaction of the payment change that learned the receipt.
"""

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bookings.models import Booking
from core.compiled_sql import insert_object, insert_row
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment
from payments.services.reports import SuccessReport, receipt_is_valid
from payments.services.scheduling import schedule_settlement_from_booking_receipt

logger = logging.getLogger(__name__)
Allocation = MpesaReceipt.Allocation
ReviewCode = Payment.ReviewCode


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What a source says about one M-Pesa transaction."""

    receipt_number: str
    channel: str
    amount: int
    source: str
    event_id: int | None = None
    account_reference: str = ""
    payer_phone: str = ""
    payer_name: str = ""
    transacted_at: datetime | None = None


def receipt_record(
    *,
    facts: ReceiptFacts,
    allocation: str,
    unallocated_reason: str = "",
    payment_id: int | None = None,
    booking_id: int | None = None,
    must_take: bool = False,
) -> MpesaReceipt:
    """Record one sighting of ``facts.receipt_number``; the receipt row is
    created on its first sighting (with this allocation) and never
    duplicated. Returns the receipt.

    ``must_take``: the receipt must end up allocated to ``payment_id``
    (a payment that completed on it). Raises ``ReceiptTakenMeanwhileError``
    when a row recorded first is someone else's, so the caller undoes
    what it paid.
    """
    # No savepoint: nothing here is rolled back on its own. The caller's
    # savepoint undoes a ReceiptTakenMeanwhileError (its payment's work too).
    with transaction.atomic(savepoint=False):
        receipt = MpesaReceipt(
            receipt_number=facts.receipt_number,
            channel=facts.channel,
            amount=facts.amount,
            account_reference=facts.account_reference[:64],
            payer_phone=facts.payer_phone[:64],
            payer_name=facts.payer_name[:128],
            transacted_at=facts.transacted_at,
            allocation=allocation,
            unallocated_reason=unallocated_reason,
            payment_id=payment_id,
            booking_id=booking_id,
        )
        # The first sighting is the common case: one INSERT, no read.
        if _insert_unless_known(receipt):
            insert_row(
                MpesaReceiptSighting,
                {
                    "receipt_id": receipt.pk,
                    "source": facts.source,
                    "event_id": facts.event_id,
                },
            )
            return receipt
        # Known already (on PostgreSQL, after a concurrent first sighting
        # commits): this report is one more sighting.
        receipt = _locked(facts.receipt_number)
        if receipt is None:
            raise IntegrityError(
                f"receipt {facts.receipt_number} neither inserted nor found"
            )
        _claim_unknown(
            receipt,
            facts=facts,
            allocation=allocation,
            unallocated_reason=unallocated_reason,
            payment_id=payment_id,
            booking_id=booking_id,
        )
        if facts.channel == MpesaReceipt.Channel.STK:
            _claim_paybill(
                receipt,
                amount=facts.amount,
                allocation=allocation,
                payment_id=payment_id,
                booking_id=booking_id,
            )
        if must_take and receipt.payment_id != payment_id:
            raise ReceiptTakenMeanwhileError(receipt)
        _add_sighting(receipt, source=facts.source, event_id=facts.event_id)
    return receipt


class ReceiptTakenMeanwhileError(Exception):
    """A payment settling on a receipt found it someone else's under the
    lock (staff allocated it or marked it for refund, or it was recorded
    for another booking, after the payment's plain read). The settlement
    rolls back its savepoint and sends the payment to review; the receipt
    stays where it is. ``where``: what became of it, for staff."""

    def __init__(self, receipt: MpesaReceipt) -> None:
        self.receipt_number = receipt.receipt_number
        if receipt.refund_marked_at is not None:
            self.where = "marked for refund"
        elif receipt.booking_id is not None:
            self.where = f"allocated to booking {receipt.booking.reference}"
        elif receipt.payment_id is not None:
            self.where = f"taken by payment {receipt.payment_id}"
        else:
            self.where = f"{receipt.allocation} {receipt.unallocated_reason}".strip()
        super().__init__(f"receipt {self.receipt_number} {self.where}")


def _claim_paybill(
    receipt: MpesaReceipt,
    *,
    amount: int,
    allocation: str,
    payment_id: int | None,
    booking_id: int | None,
) -> None:
    """An STK payment completed on a receipt that a C2B confirmation
    committed a moment earlier as unallocated money of the same amount (a
    double notification at one moment): the locked row is that payment's
    money, as ``receipt_claim_for_payment`` says when it sees the row first."""
    takes = (
        allocation == Allocation.ALLOCATED
        and payment_id is not None
        and receipt.channel == MpesaReceipt.Channel.PAYBILL
        and receipt.allocation == Allocation.UNALLOCATED
        and receipt.payment_id is None
        and receipt.booking_id is None
        and receipt.amount == amount
        # Money staff marked for refund is never taken by a payment.
        and receipt.refund_marked_at is None
    )
    if not takes:
        return
    receipt.allocation = Allocation.ALLOCATED
    receipt.unallocated_reason = ""
    receipt.payment_id = payment_id
    receipt.booking_id = booking_id
    # The STK callback proves how it was paid; the confirmation was its copy.
    receipt.channel = MpesaReceipt.Channel.STK
    receipt.save(
        update_fields=[
            "allocation",
            "unallocated_reason",
            "payment",
            "booking",
            "channel",
            "updated_at",
        ]
    )


def _claim_unknown(
    receipt: MpesaReceipt,
    *,
    facts: ReceiptFacts,
    allocation: str,
    unallocated_reason: str,
    payment_id: int | None,
    booking_id: int | None,
) -> None:
    """A payment's report of money no payment had claimed (``unknown_payment``:
    its callback came before the payment knew its CheckoutRequestID, or
    before its push's outcome was known): the locked row takes that
    report's allocation, allocated to the payment or unallocated with the
    payment's reason. A C2B confirmation of the same money (its double
    notification) claims it only when it paid the booking it names, for
    the same amount, or sent it to ``refund_due`` (the row then names that
    booking, ``booking_not_payable``: its money, to refund). Any other
    receipt keeps its allocation."""
    unknown = _awaits_payer(receipt, facts.amount)
    allocated = allocation == Allocation.ALLOCATED and bool(payment_id or booking_id)
    specific = (
        facts.channel == MpesaReceipt.Channel.STK
        and allocation == Allocation.UNALLOCATED
        and unallocated_reason
        not in ("", MpesaReceipt.UnallocatedReason.UNKNOWN_PAYMENT)
    )
    refund_due = (
        facts.channel == MpesaReceipt.Channel.PAYBILL
        and allocation == Allocation.UNALLOCATED
        and unallocated_reason == MpesaReceipt.UnallocatedReason.BOOKING_NOT_PAYABLE
        and booking_id is not None
    )
    if not unknown or not (allocated or specific or refund_due):
        return
    receipt.allocation = allocation
    receipt.unallocated_reason = "" if allocated else unallocated_reason
    receipt.payment_id = payment_id if allocated else None
    receipt.booking_id = booking_id if allocated or refund_due else None
    receipt.save(
        update_fields=[
            "allocation",
            "unallocated_reason",
            "payment",
            "booking",
            "updated_at",
        ]
    )
    if allocated and receipt.payment_id is None:
        # A C2B copy paid the booking with a push's money: its payment,
        # whose outcome was unknown, settles on it once this commits.
        schedule_settlement_from_booking_receipt(receipt_number=receipt.receipt_number)


def _add_sighting(receipt: MpesaReceipt, *, source: str, event_id: int | None) -> None:
    """One sighting per report: the same stored event applied again (an
    early callback, an adopted one) adds none."""
    if event_id is not None and receipt.sightings.filter(event_id=event_id).exists():
        return
    insert_row(
        MpesaReceiptSighting,
        {"receipt_id": receipt.pk, "source": source, "event_id": event_id},
    )


def _insert_unless_known(receipt: MpesaReceipt) -> bool:
    """INSERT the new ``receipt`` unless a row holds its number already
    (``ON CONFLICT DO NOTHING``); True, with its pk set, when it went in.

    A conflict is not an error here, so the transaction needs no savepoint
    to survive one; any other constraint the row breaks raises, on SQLite
    as on PostgreSQL. Compiled once (``core.compiled_sql``), fields'
    ``pre_save`` included, as ``Model.save``.
    """
    return insert_object(receipt, skip_if_exists_on=("receipt_number",))


def _locked(receipt_number: str) -> MpesaReceipt | None:
    return (
        MpesaReceipt.objects.select_for_update()
        .filter(receipt_number=receipt_number)
        .first()
    )


def receipt_sighting(
    *, receipt_number: str, source: str, event_id: int | None = None
) -> bool:
    """Add a sighting to a receipt already in the ledger (a repeated
    report); False, and nothing written, when it is not there."""
    with transaction.atomic():
        receipt = _locked(receipt_number)
        if receipt is None:
            return False
        _add_sighting(receipt, source=source, event_id=event_id)
    return True


def receipt_awaits_its_payer(*, receipt_number: str, amount: int) -> bool:
    """Whether the ledger holds ``receipt_number`` as an STK success no
    payment of ours could take (``unknown_payment``) for ``amount``: its
    C2B copy may still pay the booking it names. A plain read; the claim
    happens under the row lock (``receipt_record``)."""
    return MpesaReceipt.objects.filter(
        receipt_number=receipt_number,
        amount=amount,
        allocation=Allocation.UNALLOCATED,
        unallocated_reason=MpesaReceipt.UnallocatedReason.UNKNOWN_PAYMENT,
        refund_marked_at__isnull=True,
    ).exists()


def receipt_awaits_its_payer_locked(
    *, receipt_number: str, amount: int, booking_id: int
) -> bool:
    """``receipt_awaits_its_payer`` read again under the locks, taken in
    the project's order: the booking the C2B copy names (before
    ``booking_mark_paid`` locks it again), then the receipt. Call inside
    the confirmation's transaction before that money touches the booking:
    staff allocating the receipt (booking, then receipt) or marking it for
    refund meanwhile either committed (this read sees it) or wait for this
    transaction."""
    Booking.objects.select_for_update().filter(pk=booking_id).exists()
    receipt = _locked(receipt_number)
    return receipt is not None and _awaits_payer(receipt, amount)


def _awaits_payer(receipt: MpesaReceipt, amount: int) -> bool:
    return (
        receipt.allocation == Allocation.UNALLOCATED
        and receipt.unallocated_reason == MpesaReceipt.UnallocatedReason.UNKNOWN_PAYMENT
        and receipt.amount == amount
        and receipt.refund_marked_at is None
    )


class LedgerClaim(enum.StrEnum):
    """What the ledger says of a receipt an STK success reports."""

    # Another channel (a C2B confirmation) recorded it first, allocated to
    # this payment's booking, which it paid: this payment's own money.
    PAID_BOOKING = "paid_booking"
    # Recorded first as unallocated money of the payment's amount, by no
    # payment (e.g. a confirmation whose BillRefNumber named no booking):
    # this payment's own money, for it to allocate.
    UNCLAIMED = "unclaimed"
    # Someone else's (another booking, another payment, another amount, or
    # refunded): the report repeats a receipt that is not this payment's.
    FOREIGN = "foreign"


def receipt_claim_for_payment(*, receipt_id: int, payment: Payment) -> LedgerClaim:
    """Whose money the ledger row ``receipt_id`` is for ``payment`` (an STK
    success reporting that receipt). A plain read: the row is locked when
    taken (``receipt_take_for_payment``), after the booking, in the order
    the staff's allocation locks them."""
    return _claim_of(MpesaReceipt.objects.get(pk=receipt_id), payment)


def receipt_claim_locked(*, receipt_id: int, payment: Payment) -> LedgerClaim:
    """``receipt_claim_for_payment`` read again under the locks, taken in
    the project's order: the payment's booking (before ``booking_mark_paid``
    locks it again), then the receipt. Call inside the payment's
    transaction before paying the booking with an UNCLAIMED receipt: staff
    allocating it meanwhile (booking, then receipt) either committed (this
    read sees it) or waits for this transaction."""
    Booking.objects.select_for_update().filter(pk=payment.booking_id).exists()
    receipt = MpesaReceipt.objects.select_for_update().get(pk=receipt_id)
    return _claim_of(receipt, payment)


def _claim_of(receipt: MpesaReceipt, payment: Payment) -> LedgerClaim:
    if receipt.payment_id not in (None, payment.pk) or receipt.amount != payment.amount:
        return LedgerClaim.FOREIGN
    if receipt.refund_marked_at is not None:
        # Staff marked it for refund: never confirms a booking by itself.
        return LedgerClaim.FOREIGN
    if receipt.allocation == Allocation.ALLOCATED:
        if receipt.booking_id == payment.booking_id:
            return LedgerClaim.PAID_BOOKING
        return LedgerClaim.FOREIGN
    # Unallocated money naming this payment's booking (a confirmation that
    # could not confirm it: refund due) is its money too, still to refund.
    if receipt.allocation == Allocation.UNALLOCATED and receipt.booking_id in (
        None,
        payment.booking_id,
    ):
        return LedgerClaim.UNCLAIMED
    return LedgerClaim.FOREIGN


def receipt_take_for_payment(
    *, receipt_id: int, payment: Payment, source: str, event_id: int | None
) -> bool:
    """``payment`` takes a receipt another channel recorded first (see
    ``receipt_claim_for_payment``): allocated to it and its booking, plus
    one sighting. Call inside the payment's transaction, after the claim.
    False (a sighting only, and a warning) when the row changed since the
    claim was read (staff allocated it meanwhile)."""
    still_claimable = Q(allocation=Allocation.UNALLOCATED, booking__isnull=True) | Q(
        booking_id=payment.booking_id
    )
    taken = (
        MpesaReceipt.objects.filter(
            pk=receipt_id, payment__isnull=True, refund_marked_at__isnull=True
        )
        .filter(still_claimable)
        .update(
            payment_id=payment.pk,
            booking_id=payment.booking_id,
            allocation=Allocation.ALLOCATED,
            unallocated_reason="",
            # An STK success proves the channel; a confirmation was its copy.
            channel=MpesaReceipt.Channel.STK,
            updated_at=timezone.now(),
        )
    )
    receipt = MpesaReceipt.objects.select_for_update().get(pk=receipt_id)
    _add_sighting(receipt, source=source, event_id=event_id)
    if not taken:
        logger.warning(
            "receipt %s changed before payment %s could take it",
            receipt.receipt_number,
            payment.pk,
            extra={"payment_id": payment.pk, "booking_id": payment.booking_id},
        )
    return bool(taken)


# Why money a payment could not take stays unallocated in the ledger.
_UNALLOCATED = {
    ReviewCode.BOOKING_ALREADY_PAID: MpesaReceipt.UnallocatedReason.DUPLICATE_PAYMENT,
    ReviewCode.BOOKING_REFUND_DUE: MpesaReceipt.UnallocatedReason.BOOKING_NOT_PAYABLE,
    ReviewCode.SECOND_RECEIPT: MpesaReceipt.UnallocatedReason.DUPLICATE_PAYMENT,
}


def receipt_record_from_report(
    payment: Payment, report: SuccessReport, code: str | None
) -> None:
    """Put the report's receipt in the ledger: allocated to the payment when
    it completed, otherwise unallocated with why (a receipt on another
    payment gets a sighting on its existing row). Nothing without a usable
    receipt and a whole-shilling amount: the raw event keeps those."""
    receipt = report.mpesa_receipt_number
    amount = report.paid_amount if report.reports_amount else payment.amount
    if not receipt_is_valid(receipt) or not _whole_storable(amount):
        return
    if code == ReviewCode.RECEIPT_DUPLICATE:
        # The receipt is another payment's: one more sighting of its row.
        receipt_sighting(
            receipt_number=receipt,
            source=report_sighting_source(report),
            event_id=report.event_id,
        )
        return
    if code == ReviewCode.AMOUNT_MISMATCH:
        reason = (
            MpesaReceipt.UnallocatedReason.UNDERPAID
            if amount < payment.amount
            else MpesaReceipt.UnallocatedReason.OVERPAID
        )
    else:
        reason = _UNALLOCATED.get(code, "")
    if code is not None and not reason:
        return  # e.g. an unusable amount: no ledger row from this report
    allocated = code is None
    receipt_record(
        facts=ReceiptFacts(
            receipt_number=receipt,
            channel=MpesaReceipt.Channel.STK,
            amount=max(int(amount), 0),
            source=report_sighting_source(report),
            event_id=report.event_id,
            payer_phone=report.paid_phone_number,
            transacted_at=report.transaction_date,
        ),
        allocation=Allocation.ALLOCATED if allocated else Allocation.UNALLOCATED,
        unallocated_reason="" if allocated else reason,
        payment_id=payment.pk if allocated else None,
        booking_id=payment.booking_id if allocated else None,
        must_take=allocated,
    )


def report_sighting_source(report: SuccessReport) -> str:
    """The sighting source of a success report: a C2B confirmation read as
    the copy of an STK payment's money, and a statement or Pull
    Transactions line, keep their own; every other report (callback,
    query) is the STK callback's."""
    kept = (
        MpesaReceiptSighting.Source.C2B_CONFIRMATION,
        # M-Pesa's own record (statement import, Pull Transactions) that
        # recovered a payment whose callback was lost.
        MpesaReceiptSighting.Source.STATEMENT,
        MpesaReceiptSighting.Source.PULL,
    )
    if report.source in kept:
        return report.source
    return MpesaReceiptSighting.Source.STK_CALLBACK


def _whole_storable(amount: object) -> bool:
    """Whole shillings that ``MpesaReceipt.amount`` holds (a forged 1e300
    or a fraction stays in the raw event only)."""
    return amount is not None and amount == int(amount) and 0 <= amount < 2**31


def receipt_peek(receipt_number: str) -> MpesaReceipt | None:
    """The ledger's row for ``receipt_number``, a plain read (no lock).

    For a check made before the payment is settled: the row is locked
    later, when the settlement takes it (``_claim_unknown`` /
    ``receipt_take_for_payment``), which re-checks it, so the lock order
    stays payment, booking, receipt."""
    return MpesaReceipt.objects.filter(receipt_number=receipt_number).first()
