"""The soak's side of the processes' database (see ``e2e/soak.py``).

Seeds the clients and advocates, runs ``query_pending`` and reads the rows
back. ``create_soak_data`` and ``write_snapshot`` run inside ``manage.py
shell`` with the processes' environment, so SQLite and PostgreSQL are
read the same way.
"""

import json
import secrets

from e2e.soak import SoakConfig
from e2e.stack import Stack

EXTRA_ADVOCATES = 5  # beside seed_demo's three, each with its own price
FINANCE_USER = "soak-finance"  # approves the refunds (staff API)


def seed_soak_data(stack: Stack, config: SoakConfig) -> str:
    """Create the soak's clients, advocates and Finance user; return their
    password."""
    password = secrets.token_urlsafe(12)
    code = (
        "from e2e.soak_db import create_soak_data; "
        f"create_soak_data({config.clients}, {EXTRA_ADVOCATES}, {password!r}); "
        "from e2e.staff import make_staff_users; "
        f"make_staff_users({{{FINANCE_USER!r}: 'Finance'}}, {password!r})"
    )
    stack.manage("shell", "-c", code, log="soak-seed")
    return password


def create_soak_data(clients: int, advocates: int, password: str) -> None:
    """Runs inside ``manage.py shell``: users and video advocates."""
    from datetime import time as clock

    from bookings.management.commands.seed_demo import EVERY_DAY, Command
    from bookings.models import ConsultationKind
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    hashed = make_password(password)  # once: PBKDF2 per user is slow
    get_user_model().objects.bulk_create(
        get_user_model()(username=f"soak-client-{n}", password=hashed)
        for n in range(clients)
    )
    for n in range(advocates):
        # seed_demo's own helper, so the advocates have the demo's shape.
        Command()._seed_advocate(
            f"Soak Advocate {n}",
            ["Soak testing"],
            "Takes video calls all day for the soak.",
            EVERY_DAY,
            [(clock(7), clock(21))],
            [(ConsultationKind.VIDEO, 30, 1000 + 250 * n)],
        )


def read_snapshot(stack: Stack) -> dict:
    """What the invariants need from the processes' database."""
    path = stack.var_dir / "soak-snapshot.json"
    code = f"from e2e.soak_db import write_snapshot; write_snapshot({str(path)!r})"
    stack.manage("shell", "-c", code, log="soak-snapshot")
    return json.loads(path.read_text())


def write_snapshot(path: str) -> None:
    """Runs inside ``manage.py shell``: payments, bookings, key events, the
    receipts ledger and the payments completed with no receipt in it."""
    from pathlib import Path

    from bookings.models import Booking
    from django.core.serializers.json import DjangoJSONEncoder
    from payments.models import Payment, PaymentEvent

    kind = PaymentEvent.Kind
    events = PaymentEvent.objects.order_by("id")
    data = {
        "payments": list(
            Payment.objects.order_by("id").values(
                "id",
                "booking_id",
                "amount",
                "phone_number",
                "status",
                "checkout_request_id",
                "mpesa_receipt_number",
                "paid_amount",
                "review_code",
            )
        ),
        "bookings": list(
            Booking.objects.values(
                "id", "reference", "status", "payment_status", "start", "cancelled_at"
            )
        ),
        "completions": list(
            events.filter(
                kind=kind.STATUS_CHANGE, to_status="completed", payment__isnull=False
            ).values_list("payment_id", flat=True)
        ),
        "callbacks": list(
            events.filter(kind=kind.CALLBACK).values(
                "id", "payment_id", "checkout_request_id", "request_body", "error"
            )
        ),
        "unknown_outcome": list(
            events.filter(
                kind=kind.NOTE, reason__startswith="push outcome unknown"
            ).values_list("payment_id", flat=True)
        ),
        "confirmations": [
            {**event, "request_body": _c2b_facts(event["request_body"])}
            for event in events.filter(kind=kind.C2B_CONFIRMATION).values(
                "id", "payment_id", "request_body", "error"
            )
        ],
        **_ledger_rows(),
        **_refund_rows(),
    }
    Path(path).write_text(json.dumps(data, cls=DjangoJSONEncoder))


def _ledger_rows() -> dict:
    """The receipts, their sightings, and the completed payments whose
    money the ledger does not hold yet (settled by a query: "receipt
    pending")."""
    from django.db.models import Exists, OuterRef, Q
    from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment

    in_ledger = MpesaReceipt.objects.filter(
        Q(payment=OuterRef("pk")) | Q(receipt_number=OuterRef("mpesa_receipt_number"))
    )
    pending = Payment.objects.filter(status=Payment.Status.COMPLETED).exclude(
        Exists(in_ledger)
    )
    return {
        "receipts": list(
            MpesaReceipt.objects.order_by("id").values(
                "id",
                "receipt_number",
                "direction",
                "channel",
                "amount",
                "account_reference",
                "booking_id",
                "payment_id",
                "allocation",
                "unallocated_reason",
            )
        ),
        "sightings": list(
            MpesaReceiptSighting.objects.order_by("id").values(
                "receipt_id", "source", "event_id"
            )
        ),
        "receipt_pending": list(pending.order_by("id").values_list("id", flat=True)),
    }


def _refund_rows() -> dict:
    """The refunds and the Transaction Status checks sent about them."""
    from payments.models import Refund, TransactionStatusCheck

    return {
        "refunds": list(
            Refund.objects.order_by("id").values(
                "id",
                "booking_id",
                "amount",
                "method",
                "reason",
                "status",
                "result_code",
                "refund_receipt_number",
                "originator_conversation_id",
                "receipt__receipt_number",
                "requested_by__username",
                "approved_by__username",
            )
        ),
        "status_checks": list(
            TransactionStatusCheck.objects.order_by("id").values(
                "id", "refund_id", "state", "result_code"
            )
        ),
    }


def _c2b_facts(body: object) -> dict:
    """The keys the checks read from a stored C2B request body."""
    if not isinstance(body, dict):
        return {}
    keys = ("TransID", "TransAmount", "BillRefNumber")
    return {key: body.get(key) for key in keys}


def run_query_pending(stack: Stack, round_number: int) -> dict:
    """``manage.py query_pending --older-than 0 --json``; its summary, with
    its refunds sweep's counts under ``refunds``."""
    output = stack.log_dir / f"query_pending-{round_number}.json"
    stack.manage(
        "query_pending",
        "--older-than",
        "0",
        "--json",
        log=f"query_pending-{round_number}",
        output=output,
    )
    document = json.loads(output.read_text())
    return {**document["summary"], "refunds": document["refunds"]}
