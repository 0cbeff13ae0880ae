"""The soak's booking invariants (see ``e2e/soak.py``): every booking
holds the money it shows, once; one its client cancelled once paid owes it
back or has it back (``soak_refunds``)."""

from collections import Counter


def cancelled_by_client(runs: list) -> set[int]:
    """Bookings the soak's clients cancelled once paid (soak_refunds)."""
    return {r.booking_id for r in runs if r.cancelled == "cancelled"}


def booking_problems(snapshot: dict, *, cancelled: set[int]) -> dict:
    """A confirmed booking has its money (a completed payment or a receipt
    allocated to it), a completed payment has its booking confirmed (or,
    cancelled by its client, owing or refunded), and no booking holds two
    payments' money (a receipt allocated with its own completed payment is
    that payment's money, not a second one; a refund's receipt is money
    out)."""
    payments, bookings = snapshot["payments"], snapshot["bookings"]
    completed = Counter(p["booking_id"] for p in payments if p["status"] == "completed")
    completed_ids = {p["id"] for p in payments if p["status"] == "completed"}
    paid = completed + Counter(
        r["booking_id"]
        for r in snapshot["receipts"]
        if r["allocation"] == "allocated"
        and r["direction"] == "in"
        and r["booking_id"]
        and r["payment_id"] not in completed_ids
    )
    confirmed = {
        b["id"]
        for b in bookings
        if b["status"] == "confirmed" or b["payment_status"] == "paid"
    }
    fully = {
        b["id"]
        for b in bookings
        if (b["status"], b["payment_status"]) == ("confirmed", "paid")
        or (
            b["id"] in cancelled
            and b["status"] == "cancelled"
            and b["payment_status"] in ("refund_due", "refunded")
        )
    }
    return {
        "confirmed without completed payment or receipt": sorted(confirmed - set(paid)),
        "completed but booking not confirmed": sorted(set(completed) - fully),
        "completed twice": [
            pid for pid, n in Counter(snapshot["completions"]).items() if n > 1
        ],
        "booking paid twice": [bid for bid, n in paid.items() if n > 1],
    }
