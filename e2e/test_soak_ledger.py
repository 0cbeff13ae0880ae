"""The soak's money equation on hand-made rows: it explains every shilling
once, and it catches money counted twice or not at all.

No processes and no database: ``soak_ledger`` reads plain dicts (the
snapshot and the simulator's view), so these run in the ordinary suite.
"""

from e2e.soak_ledger import (
    COUNTED_TWICE,
    MONEY,
    NEVER_TAKEN,
    UNEXPLAINED,
    Takings,
    money_problems,
    refund_problems,
)


def _stk(receipt: str, checkout_id: str, phone: str, amount: int) -> dict:
    return {
        "channel": "stk",
        "receipt": receipt,
        "CheckoutRequestID": checkout_id,
        "phone": phone,
        "paid_amount": amount,
        "result_code": 0,
        "status": "final",
    }


def _paybill(receipt: str, amount: int) -> dict:
    return {
        "channel": "paybill",
        "receipt": receipt,
        "CheckoutRequestID": None,
        "phone": "254722000099",
        "paid_amount": amount,
        "result_code": "0",
        "status": "completed",
    }


def _payment(pid: int, status: str, checkout_id: str | None, **fields) -> dict:
    return {
        "id": pid,
        "booking_id": pid,
        "amount": 1000,
        "phone_number": f"25472000000{pid}",
        "status": status,
        "checkout_request_id": checkout_id,
        "mpesa_receipt_number": None,
        "review_code": "",
        **fields,
    }


def _receipt(rid: int, number: str, amount: int = 1000, **fields) -> dict:
    return {
        "id": rid,
        "receipt_number": number,
        "direction": "in",
        "channel": "stk",
        "amount": amount,
        "booking_id": None,
        "payment_id": None,
        "allocation": "allocated",
        "unallocated_reason": "",
        **fields,
    }


def _books(entries, payments, receipts, pending=()) -> Takings:
    stk = [e for e in entries if e["channel"] == "stk"]
    paybill = [e for e in entries if e["channel"] == "paybill"]
    simulator = {
        "ledger": {
            "successful_amount": sum(e["paid_amount"] for e in stk),
            "paybill_successful_amount": sum(e["paid_amount"] for e in paybill),
            "payments": entries,
        }
    }
    snapshot = {
        "payments": payments,
        "receipts": receipts,
        "receipt_pending": list(pending),
    }
    return Takings(snapshot, simulator)


def _broken(problems: dict) -> set[str]:
    return {name for name, found in problems.items() if found}


def test_money_equation_counts_ledger_pending_and_review_once_each():
    # given: a receipt in the ledger, a payment settled by a query (receipt
    # pending), a push whose outcome we never learned (in review), a
    # review payment whose receipt is in the ledger, and a Paybill payment
    entries = [
        _stk("RA", "ws_a", "254720000001", 1000),
        _stk("RB", "ws_b", "254720000002", 1000),
        _stk("RC", "ws_c", "254720000003", 1000),
        _stk("RD", "ws_d", "254720000004", 1000),
        _paybill("PE", 1500),
    ]
    payments = [
        _payment(1, "completed", "ws_a", mpesa_receipt_number="RA"),
        _payment(2, "completed", "ws_b"),
        _payment(3, "needs_review", None, review_code="outcome_unknown"),
        _payment(4, "needs_review", "ws_d", mpesa_receipt_number="RD", review_code="x"),
    ]
    receipts = [
        _receipt(1, "RA", payment_id=1),
        _receipt(2, "RD", allocation="unallocated"),
        _receipt(3, "PE", 1500, channel="paybill"),
    ]

    # when
    takings = _books(entries, payments, receipts, pending=[2])
    problems = money_problems(takings)

    # then
    equation = takings.equation()
    assert (equation["ledger money in"], equation["difference"]) == (3500, 0)
    assert equation["completed, receipt pending"] == 1000
    assert equation["review payments"] == [(3, 1000, "outcome_unknown", "RC")]
    assert _broken(problems) == set()


def test_money_equation_catches_a_receipt_also_pending_on_its_payment():
    # given: a C2B confirmation put the STK payment's receipt in the ledger
    # unallocated, while the payment (settled by a query) still waits for it
    entries = [_stk("RA", "ws_a", "254720000001", 1000)]
    payments = [_payment(1, "completed", "ws_a")]
    receipts = [_receipt(1, "RA", allocation="unallocated")]

    # when
    problems = money_problems(_books(entries, payments, receipts, pending=[1]))

    # then
    assert _broken(problems) == {MONEY, COUNTED_TWICE}


def test_money_equation_catches_money_missing_and_money_never_taken():
    # given: a Paybill payment the app never recorded, and a ledger row the
    # simulator never took
    entries = [_paybill("PE", 1000)]
    receipts = [_receipt(1, "ZZ")]

    # when
    problems = money_problems(_books(entries, [], receipts))

    # then
    assert _broken(problems) == {UNEXPLAINED, NEVER_TAKEN}


def test_refund_check_catches_a_review_payment_holding_its_bookings_receipt():
    # given: the C2B confirmation paid the booking first, then the STK
    # callback of the same receipt sent its payment to review
    snapshot = {
        "payments": [
            _payment(
                7,
                "needs_review",
                "ws_a",
                mpesa_receipt_number="RA",
                review_code="booking_already_paid",
            )
        ],
        "receipts": [_receipt(1, "RA", booking_id=7)],
    }

    # when
    problems = refund_problems(snapshot)

    # then
    assert list(problems.values()) == [[(7, "RA", "booking_already_paid")]]
