"""The soak's money-out invariants on hand-made rows: they hold for a
refund done right and catch each way one goes wrong.

No processes and no database: ``soak_money_out`` reads plain dicts (the
snapshot and the simulator's view) and the runs, so these run in the
ordinary suite.
"""

from types import SimpleNamespace

from e2e.soak_money_out import MONEY_OUT, OPEN_REFUNDS, money_out_problems

ORIGINATOR = "27faac9a-9e63-4671-b31d-c0b0409f5c8d"
HOURS = 10


def _snapshot(**changes) -> dict:
    """One booking paid KES 1,000 (receipt IN1), cancelled 20 h before its
    start and refunded by reversal OUT1."""
    booking = {
        "id": 1,
        "reference": "HYABCDEF",
        "status": "cancelled",
        "payment_status": "refunded",
        "start": "2026-12-04T06:00:00Z",
        "cancelled_at": "2026-12-03T10:00:00Z",
    }
    receipts = [
        {"receipt_number": "IN1", "direction": "in", "amount": 1000, "booking_id": 1}
        | {"allocation": "refunded"},
        {"receipt_number": "OUT1", "direction": "out", "amount": 1000, "booking_id": 1}
        | {"allocation": "allocated"},
    ]
    refund = {
        "id": 7,
        "booking_id": 1,
        "amount": 1000,
        "status": "completed",
        "originator_conversation_id": ORIGINATOR,
        "receipt__receipt_number": "IN1",
        "requested_by__username": "hakiyetu-system",
        "approved_by__username": "soak-finance",
    }
    snapshot = {
        "bookings": [booking | changes.pop("booking", {})],
        "receipts": receipts,
        "refunds": [refund | changes.pop("refund", {})],
        "status_checks": [],
    }
    return snapshot | changes


def _simulator(*, requests: int = 1, moved: bool = True, out: int = 1000) -> dict:
    reversal = {
        "kind": "reversal",
        "OriginatorConversationID": ORIGINATOR,
        "ConversationID": "AG_1",
        "TransactionID": "OUT1" if moved else "",
        "amount": 1000,
        "moved_money": moved,
        "original_receipt": "IN1",
        "faults": [],
        "deliveries": [],
    }
    return {
        "ledger": {
            "money_in_amount": 1000,
            "money_out_amount": out,
            "net_balance": 1000 - out,
        },
        "money_out": {"requests": [reversal]},
        "reversal_requests": [{"body": {"OriginatorConversationID": ORIGINATOR}}]
        * requests,
    }


RUNS = [
    SimpleNamespace(
        booking_id=1,
        reference="HYABCDEF",
        cancel="early",
        cancelled="cancelled",
        cancel_receipt="IN1",
        error="",
    )
]


def _broken(snapshot: dict, simulator: dict) -> dict:
    problems = money_out_problems(RUNS, snapshot, simulator, took=1000, hours=HOURS)
    return {name: found for name, found in problems.items() if found}


def test_money_out_a_refund_done_right_breaks_nothing():
    assert _broken(_snapshot(), _simulator()) == {}


def test_money_out_a_reversal_missing_from_the_ledger_is_caught():
    # given: the simulator paid OUT1 out; our ledger has no receipt out
    snapshot = _snapshot()
    snapshot["receipts"] = snapshot["receipts"][:1]

    # then: the receipt and the balance both differ
    assert _broken(snapshot, _simulator())[MONEY_OUT][0] == ("OUT1", None, 1000)


def test_money_out_a_refund_sent_twice_is_caught():
    assert _broken(_snapshot(), _simulator(requests=2)) == {
        "refund sent twice": [("request", ORIGINATOR, 2)]
    }


def test_money_out_a_completed_refund_whose_booking_still_owes_is_caught():
    snapshot = _snapshot(booking={"payment_status": "refund_due"})

    assert _broken(snapshot, _simulator()) == {
        "completed refund, booking or receipt not refunded": [
            (7, "refund_due", "refunded")
        ]
    }


def test_money_out_an_unknown_refund_whose_money_moved_is_caught():
    # given: M-Pesa moved the money (Transaction Status could tell), and
    # the ledger has no receipt out
    snapshot = _snapshot(
        refund={"status": "unknown"}, booking={"payment_status": "refund_due"}
    )
    snapshot["receipts"] = snapshot["receipts"][:1]

    # then
    broken = _broken(snapshot, _simulator())
    assert broken["refund unknown though M-Pesa could tell"] == [(7, ORIGINATOR)]


def test_money_out_an_unknown_refund_that_moved_nothing_is_allowed():
    snapshot = _snapshot(
        refund={"status": "unknown"}, booking={"payment_status": "refund_due"}
    )
    snapshot["receipts"] = snapshot["receipts"][:1]

    assert _broken(snapshot, _simulator(moved=False, out=0)) == {}


def test_money_out_a_submitted_refund_left_open_is_caught():
    snapshot = _snapshot(
        refund={"status": "submitted"}, booking={"payment_status": "refund_due"}
    )
    snapshot["receipts"] = snapshot["receipts"][:1]

    assert _broken(snapshot, _simulator(moved=False, out=0)) == {
        OPEN_REFUNDS: [(7, "submitted")]
    }


def test_money_out_an_automatic_refund_of_a_late_cancellation_is_caught():
    # given: cancelled 5 h before its start, under a 10 h policy
    snapshot = _snapshot(booking={"cancelled_at": "2026-12-04T01:00:00Z"})

    assert _broken(snapshot, _simulator()) == {
        "automatic refund against the policy": [1],
        "early cancellation with its receipt, no refund owed": [1],
    }


def test_money_out_refunds_beyond_the_receipt_are_caught():
    # given: a second completed refund of the same receipt
    snapshot = _snapshot()
    snapshot["refunds"].append(snapshot["refunds"][0] | {"id": 8})

    assert _broken(snapshot, _simulator())["refunded beyond the receipt"] == [
        ("IN1", 2000, 1000)
    ]
