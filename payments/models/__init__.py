"""The payments app's models: STK attempts and their log, and the ledger."""

from payments.models.payment import (
    PAYMENT_OPEN_STATUSES,
    AppendOnlyQuerySet,
    Payment,
    PaymentEvent,
    PaymentStatus,
)
from payments.models.receipts import (
    MpesaReceipt,
    MpesaReceiptSighting,
    UnallocatedReceipt,
)
from payments.models.refunds import (
    REFUND_HOLDING_STATUSES,
    Refund,
    RefundStatus,
    TransactionStatusCheck,
)

__all__ = (
    "PAYMENT_OPEN_STATUSES",
    "AppendOnlyQuerySet",
    "MpesaReceipt",
    "MpesaReceiptSighting",
    "Payment",
    "PaymentEvent",
    "PaymentStatus",
    "REFUND_HOLDING_STATUSES",
    "Refund",
    "RefundStatus",
    "TransactionStatusCheck",
    "UnallocatedReceipt",
)
