"""The callback's locking read: one statement, compiled once.

A success callback locks its payment by CheckoutRequestID and, in the same
statement, learns whether another payment already holds the report's
receipt and which ledger row holds it. Building and compiling that query
(two subqueries) cost 0.9 ms of CPU per callback, running it 0.15 ms, so
the ORM compiles it once per database and each call runs the same SQL
through ``raw()`` with its own values.
"""

from django.db import router
from django.db.models import Exists, OuterRef, Subquery

from payments.models import MpesaReceipt, Payment

# Placeholders compiled into the statement, replaced by each call's values.
_CHECKOUT_SLOT = "\x00checkout_request_id"
_RECEIPT_SLOT = "\x00receipt"
_statements: dict[str, tuple[str, tuple]] = {}


def payment_lock_with_receipt_facts(
    *, checkout_request_id: str, receipt: str
) -> Payment | None:
    """Lock the payment with that CheckoutRequestID (None when none has it),
    annotated with ``receipt_elsewhere`` (another payment holds ``receipt``)
    and ``ledger_receipt_id`` (the ledger's row of it, or None). Call inside
    the transaction that settles it."""
    alias = router.db_for_write(Payment)
    sql, params = _statement(alias)
    values = {_CHECKOUT_SLOT: checkout_request_id, _RECEIPT_SLOT: receipt}
    params = [values.get(p, p) if isinstance(p, str) else p for p in params]
    found = list(Payment.objects.db_manager(alias).raw(sql, params))
    if not found:
        return None
    payment = found[0]
    payment.receipt_elsewhere = bool(payment.receipt_elsewhere)  # SQLite: 0/1
    return payment


def _statement(alias: str) -> tuple[str, tuple]:
    """The locking SELECT and its parameters (placeholders for the call's),
    compiled by the ORM the first time ``alias`` needs it."""
    if alias not in _statements:
        payments = (
            Payment.objects.select_for_update(of=("self",))
            .annotate(
                receipt_elsewhere=_receipt_held_elsewhere(_RECEIPT_SLOT),
                ledger_receipt_id=_ledger_receipt_id(_RECEIPT_SLOT),
            )
            .filter(checkout_request_id=_CHECKOUT_SLOT)
            .order_by()
        )
        sql, params = payments.query.get_compiler(using=alias).as_sql()
        if params.count(_CHECKOUT_SLOT) != 1 or _RECEIPT_SLOT not in params:
            raise RuntimeError(f"unexpected parameters in the lock: {params!r}")
        _statements[alias] = (sql, tuple(params))
    return _statements[alias]


def _receipt_held_elsewhere(receipt: str) -> Exists:
    """Another payment already holds ``receipt``."""
    others = Payment.objects.filter(mpesa_receipt_number=receipt)
    return Exists(others.exclude(pk=OuterRef("pk")))


def _ledger_receipt_id(receipt: str) -> Subquery:
    """The ledger row of ``receipt``, if any."""
    rows = MpesaReceipt.objects.filter(receipt_number=receipt)
    return Subquery(rows.values("pk")[:1])
