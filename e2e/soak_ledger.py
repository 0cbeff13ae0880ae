"""The soak's ledger invariants (see ``e2e/soak.py``): every shilling once.

The simulator's takings (``Takings``: each STK push that succeeded and each
Paybill payment it completed, by receipt) against where the app keeps that
money: a receipt in the ledger (``MpesaReceipt``), a completed payment whose
receipt is still pending (settled by an STK query, which carries none), or a
payment in review whose money is in neither (its push's outcome unknown and
its callback unmatched or lost). ``test_soak.py`` states the equation.
"""

from collections import Counter

from e2e.soak_paybill import RIGHT

MONEY = "money"
UNEXPLAINED = "money unexplained"
COUNTED_TWICE = "money counted twice"
NEVER_TAKEN = "money the simulator never took"


class Takings:
    """The simulator's money, one entry per receipt, and the app's places
    for it, each entry claimed by the place that holds it."""

    def __init__(self, snapshot: dict, simulator: dict) -> None:
        ledger = simulator["ledger"]
        self.totals = {
            "stk (successful_amount)": ledger["successful_amount"],
            "paybill (paybill_successful_amount)": ledger["paybill_successful_amount"],
        }
        self.entries = {e["receipt"]: e for e in ledger["payments"] if _took(e)}
        self.receipts = [r for r in snapshot["receipts"] if r["direction"] == "in"]
        self.numbers = {r["receipt_number"] for r in snapshot["receipts"]}
        payments = {p["id"]: p for p in snapshot["payments"]}
        self.pending = [payments[pid] for pid in snapshot["receipt_pending"]]
        self.review = self._held_in_review(snapshot, payments)

    def _held_in_review(self, snapshot: dict, payments: dict) -> list[tuple]:
        """(payment, receipt) for each payment in review holding money the
        simulator took that neither the ledger nor a pending payment has.

        Matched by CheckoutRequestID, or for a push whose outcome was
        unknown (no CheckoutRequestID) by phone: phones are distinct per
        booking. A review payment whose receipt is in the ledger is money
        already counted there."""
        pending_ids = {p["checkout_request_id"] for p in self.pending}
        free = {
            (e["CheckoutRequestID"], e["phone"]): receipt
            for receipt, e in self.entries.items()
            if e["channel"] == "stk"
            and receipt not in self.numbers
            and e["CheckoutRequestID"] not in pending_ids
        }
        by_checkout = {cid: r for (cid, _), r in free.items()}
        known = {p["checkout_request_id"] for p in payments.values()}
        by_phone = {ph: r for (cid, ph), r in free.items() if cid not in known}
        held = []
        for payment in payments.values():
            if payment["status"] != "needs_review":
                continue
            if payment["mpesa_receipt_number"] in self.numbers:
                continue
            cid = payment["checkout_request_id"]
            receipt = (
                by_checkout.get(cid) if cid else by_phone.get(payment["phone_number"])
            )
            if receipt:
                held.append((payment, receipt))
        return held

    def claims(self) -> dict[str, list[str]]:
        """Each simulator receipt → the places that claim its money."""
        found: dict[str, list[str]] = {receipt: [] for receipt in self.entries}
        for row in self.receipts:
            found.setdefault(row["receipt_number"], []).append(f"ledger {row['id']}")
        stk = {
            e["CheckoutRequestID"]: r
            for r, e in self.entries.items()
            if e["channel"] == "stk"
        }
        for payment in self.pending:
            receipt = stk.get(payment["checkout_request_id"], f"p{payment['id']}")
            found.setdefault(receipt, []).append(f"receipt pending {payment['id']}")
        for payment, receipt in self.review:
            found[receipt].append(f"review {payment['id']}")
        return found

    def equation(self) -> dict:
        """Both sides of the money equation, each term listed."""
        took = sum(self.totals.values())
        ledger = sum(r["amount"] for r in self.receipts)
        pending = sum(p["amount"] for p in self.pending)
        review = sum(p["amount"] for p, _ in self.review)
        return {
            "simulator took": took,
            **self.totals,
            "ledger money in": ledger,
            "completed, receipt pending": pending,
            "held in review, in neither": review,
            "difference": took - ledger - pending - review,
            "ledger receipts": [
                (
                    r["receipt_number"],
                    r["channel"],
                    r["amount"],
                    r["allocation"],
                    r["unallocated_reason"],
                )
                for r in self.receipts
            ],
            "receipt pending payments": [(p["id"], p["amount"]) for p in self.pending],
            "review payments": [
                (p["id"], p["amount"], p["review_code"], receipt)
                for p, receipt in self.review
            ],
        }


def _took(entry: dict) -> bool:
    """A simulator ledger entry that took the client's money."""
    if entry["channel"] == "paybill":
        return entry["status"] == "completed"
    return str(entry["result_code"]) == "0"


def money_problems(takings: Takings) -> dict:
    """The money equation and its per-receipt explanation."""
    equation = takings.equation()
    claims = takings.claims()
    entries = takings.entries
    return {
        MONEY: [] if equation["difference"] == 0 else [equation],
        UNEXPLAINED: [
            (entries[r]["channel"], r, entries[r]["paid_amount"])
            for r, places in claims.items()
            if r in entries and not places
        ],
        COUNTED_TWICE: [(r, places) for r, places in claims.items() if len(places) > 1],
        NEVER_TAKEN: [(r, places) for r, places in claims.items() if r not in entries],
        "ledger amount differs from the simulator": [
            (row["receipt_number"], row["amount"], entries[n]["paid_amount"])
            for row in takings.receipts
            if (n := row["receipt_number"]) in entries
            and entries[n]["paid_amount"] != row["amount"]
        ],
    }


def ledger_problems(snapshot: dict) -> dict:
    """One row per receipt, one sighting per report."""
    numbers = Counter(r["receipt_number"].upper() for r in snapshot["receipts"])
    events = Counter(s["event_id"] for s in snapshot["sightings"] if s["event_id"])
    return {
        "receipt in the ledger twice": [n for n, k in numbers.items() if k > 1],
        "report sighted twice": [e for e, k in events.items() if k > 1],
    }


def delivered_receipts(simulator: dict) -> set[str]:
    """Receipts the simulator told us of and we answered 200 for: success
    callbacks and C2B confirmations (Paybill and double notifications)."""
    found = set()
    for callback in simulator["callbacks"]:
        if callback["state"] == "delivered" and callback["http_status"] == 200:
            receipt = _callback_receipt(callback["body"])
            if receipt:
                found.add(receipt)
    found |= {
        n["body"]["TransID"]
        for n in confirmations_sent(simulator)
        if n["state"] == "delivered" and n["http_status"] == 200
    }
    return found


def confirmations_sent(simulator: dict) -> list[dict]:
    """Every C2B confirmation the simulator tried to deliver."""
    c2b = simulator["c2b"]
    return [
        note
        for payment in c2b["payments"] + c2b["double_notifications"]
        for note in payment["notifications"]
        if note["kind"] == "confirmation"
    ]


def _callback_receipt(body: object) -> str | None:
    try:
        callback = body["Body"]["stkCallback"]
    except (KeyError, TypeError):
        return None
    if str(callback.get("ResultCode")) != "0":
        return None
    items = (callback.get("CallbackMetadata") or {}).get("Item") or []
    values = {i.get("Name"): i.get("Value") for i in items}
    return values.get("MpesaReceiptNumber")


def reported_problems(snapshot: dict, simulator: dict) -> dict:
    """Every receipt that reached us is in the ledger; every confirmation
    is stored raw and was acknowledged."""
    in_ledger = {r["receipt_number"] for r in snapshot["receipts"]}
    sent = confirmations_sent(simulator)
    delivered = Counter(n["body"]["TransID"] for n in sent if n["state"] == "delivered")
    stored = Counter(
        e["request_body"].get("TransID") for e in snapshot["confirmations"]
    )
    return {
        "delivered receipts missing from the ledger": sorted(
            delivered_receipts(simulator) - in_ledger
        ),
        "delivered confirmations missing from PaymentEvent": sorted(
            (delivered - stored).elements()
        ),
        "confirmations not acknowledged": [
            (n["body"]["TransID"], n["state"], n.get("http_status"), n.get("error"))
            for n in sent
            if n["state"] != "delivered" or n["http_status"] != 200
        ],
    }


def paybill_problems(runs: list, snapshot: dict) -> dict:
    """A booking paid by Paybill with the right amount and reference is
    confirmed and paid exactly once, by that receipt; a wrong amount or an
    unknown account stays unallocated with its reason."""
    bookings = {b["id"]: b for b in snapshot["bookings"]}
    receipts = {r["receipt_number"]: r for r in snapshot["receipts"]}
    allocated = Counter(
        r["booking_id"]
        for r in snapshot["receipts"]
        if r["direction"] == "in" and r["allocation"] in ("allocated", "refunded")
    )
    completed = Counter(
        p["booking_id"] for p in snapshot["payments"] if p["status"] == "completed"
    )
    not_once, wrong = [], []
    for run in runs:
        paid = run.paybill or {}
        if paid.get("status") != "completed":
            continue
        booking, row = bookings[run.booking_id], receipts.get(paid["receipt"], {})
        if run.paybill_variant in RIGHT:
            once = (
                _paid_or_cancelled(booking, run)
                and row.get("allocation") in _ALLOCATED[run.cancelled == "cancelled"]
                and row.get("booking_id") == run.booking_id
                and allocated[run.booking_id] + completed[run.booking_id] == 1
            )
            if not once:
                not_once.append((run.booking_id, paid["receipt"], booking["status"]))
            continue
        if (
            row.get("allocation") != "unallocated"
            # the variants are named for their reasons: underpaid, overpaid,
            # unknown_account
            or row.get("unallocated_reason") != run.paybill_variant
            or booking["payment_status"] == "paid"
        ):
            wrong.append((run.booking_id, paid["receipt"], run.paybill_variant))
    return {
        "paybill booking not paid exactly once": not_once,
        "wrong paybill not unallocated with its reason": wrong,
    }


# A receipt that paid its booking: allocated, or refunded once its
# booking, cancelled by its client, got the money back.
_ALLOCATED = {False: ("allocated",), True: ("allocated", "refunded")}


def _paid_or_cancelled(booking: dict, run) -> bool:
    """Confirmed and paid; or cancelled by its client once paid, owing the
    money back or refunded (soak_refunds)."""
    if run.cancelled == "cancelled":
        return booking["status"] == "cancelled" and booking["payment_status"] in (
            "refund_due",
            "refunded",
        )
    return (booking["status"], booking["payment_status"]) == ("confirmed", "paid")


def refund_problems(snapshot: dict) -> dict:
    """No payment in review (refund due) for money that paid its booking:
    the STK callback and the C2B confirmation of one receipt are one
    payment, never a payment and a refund."""
    receipts = {r["receipt_number"]: r for r in snapshot["receipts"]}
    return {
        "review payment holds the receipt that paid its booking": [
            (p["id"], p["mpesa_receipt_number"], p["review_code"])
            for p in snapshot["payments"]
            if p["status"] == "needs_review"
            and (row := receipts.get(p["mpesa_receipt_number"]))
            and row["allocation"] == "allocated"
            and row["booking_id"] == p["booking_id"]
        ]
    }
