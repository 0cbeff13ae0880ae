"""Read-only queries behind the staff console: the reconciliation page and
the CSV export. Nothing here writes; every function is one or two queries
whatever the number of payments.

Nairobi's days are in ``days``, payments by status in ``payment_figures``,
money in per day in ``money_in`` and the CSV rows in ``csv_export``; all
are importable from ``payments.reporting``.
"""

from payments.reporting.csv_export import CSV_HEADER, payment_csv_rows
from payments.reporting.days import nairobi_day_start, nairobi_midnight, nairobi_today
from payments.reporting.money_in import (
    MONEY_IN_CHANNELS,
    MoneyInDay,
    MoneyTotal,
    money_in_per_day,
    receipt_pending_total,
    unallocated_total,
)
from payments.reporting.payment_figures import (
    FailureReasonRow,
    ReviewReasonRow,
    StatusTotal,
    payment_failure_reasons,
    payment_list_needs_review,
    payment_list_stuck,
    payment_review_reasons,
    payment_status_counts,
    payment_status_totals,
    payment_stuck_cutoff,
)

__all__ = [
    "CSV_HEADER",
    "MONEY_IN_CHANNELS",
    "FailureReasonRow",
    "MoneyInDay",
    "MoneyTotal",
    "ReviewReasonRow",
    "StatusTotal",
    "money_in_per_day",
    "nairobi_day_start",
    "nairobi_midnight",
    "nairobi_today",
    "payment_csv_rows",
    "payment_failure_reasons",
    "payment_list_needs_review",
    "payment_list_stuck",
    "payment_review_reasons",
    "payment_status_counts",
    "payment_status_totals",
    "payment_stuck_cutoff",
    "receipt_pending_total",
    "unallocated_total",
]
