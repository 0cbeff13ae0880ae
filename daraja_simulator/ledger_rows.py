"""The simulator's ledger as rows of money that moved, oldest first.

One source for ``GET /simulator/statement`` (the org portal layout) and
for Pull Transactions: every STK payment the simulator took (also when it
lost or withheld the callback: the money moved when the push was
decided), every completed paybill payment, every reversal or B2C that
paid money back, and the charge the organisation pays on each payment in.
Double notifications of STK payments are not new money and are left out.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from .initiator_results import CUSTOMER_NAME
from .money_out import REVERSAL
from .state import SimulatorState

STK = "stk"
PAYBILL = "paybill"
REFUND = "refund"
CHARGE = "charge"
STK_REASON = "Pay Utility"
PAYBILL_REASON = "Pay Bill Online"
REVERSAL_REASON = "Reversal"
B2C_REASON = "Business Payment to Customer via API"
CHARGE_REASON = "Business Pay Bill Charge"
# The simulator's own tariff (not Safaricom's): 0.55% rounded up, 1..200.
CHARGE_RATE_PER_10000 = 55
CHARGE_CAP = 200


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One movement of money on the organisation's account, in whole KES.

    ``paid_in`` and ``withdrawn`` are both >= 0; one of them is 0.
    ``account`` is the STK AccountReference or paybill BillRefNumber.
    """

    kind: str
    receipt: str
    short_code: str
    phone: str
    initiated_at: datetime
    completed_at: datetime
    paid_in: int
    withdrawn: int
    reason_type: str
    details: str
    account: str = ""
    linked_receipt: str = ""

    @property
    def is_payment_in(self) -> bool:
        """Money a customer paid (STK or paybill): what Pull returns."""
        return self.kind in (STK, PAYBILL)


def portal_party(phone: str) -> str:
    """``254721234108`` -> ``25472****108 - JOHN DOE`` as the portal shows."""
    masked = phone[:5] + "****" + phone[-3:] if len(phone) >= 8 else "****"
    return f"{masked} - {CUSTOMER_NAME.upper()}"


def ledger_rows(state: SimulatorState) -> list[LedgerRow]:
    """Every movement of money so far, by completion time."""
    money_in = _stk_rows(state) + _paybill_rows(state)
    rows = money_in + [_charge_row(row) for row in money_in] + _refund_rows(state)
    return sorted(rows, key=lambda row: (row.completed_at, row.kind == CHARGE))


def _stk_rows(state: SimulatorState) -> list[LedgerRow]:
    rows = []
    for push in state.paid_pushes():
        request = push.request
        rows.append(
            LedgerRow(
                kind=STK,
                receipt=push.receipt or "",
                short_code=request.party_b,
                phone=request.phone,
                initiated_at=push.created_at,
                completed_at=push.decided_at or push.created_at,
                paid_in=push.paid_amount or 0,
                withdrawn=0,
                reason_type=STK_REASON,
                details=f"Pay Bill Online from {portal_party(request.phone)} "
                f"Acc. {request.account_reference}",
                account=request.account_reference,
            )
        )
    return rows


def _paybill_rows(state: SimulatorState) -> list[LedgerRow]:
    return [
        LedgerRow(
            kind=PAYBILL,
            receipt=payment.trans_id,
            short_code=payment.short_code,
            phone=payment.phone,
            initiated_at=payment.created_at,
            completed_at=payment.created_at,
            paid_in=payment.amount,
            withdrawn=0,
            reason_type=PAYBILL_REASON,
            details=f"Pay Bill from {portal_party(payment.phone)} "
            f"Acc. {payment.account}",
            account=payment.account,
        )
        for payment in state.c2b.payments()
        if payment.status == "completed"
    ]


def _refund_rows(state: SimulatorState) -> list[LedgerRow]:
    rows = []
    short_code = state.config.short_code
    for request in state.money_out.moved():
        reversal = request.kind == REVERSAL
        party = portal_party(request.phone) if request.phone else ""
        rows.append(
            LedgerRow(
                kind=REFUND,
                receipt=request.transaction_id,
                short_code=short_code,
                phone=request.phone,
                initiated_at=request.created_at,
                completed_at=request.created_at,
                paid_in=0,
                withdrawn=request.amount,
                reason_type=REVERSAL_REASON if reversal else B2C_REASON,
                details=(
                    f"Reversal of {request.original_receipt} to {party}"
                    if reversal
                    else f"Business Payment to {party}"
                ),
                linked_receipt=request.original_receipt if reversal else "",
            )
        )
    return rows


def charge_for(amount: int) -> int:
    """What the organisation pays on ``amount`` KES paid in (simulated)."""
    charge = -(-amount * CHARGE_RATE_PER_10000 // 10_000)
    return max(1, min(CHARGE_CAP, charge))


def _charge_row(payment: LedgerRow) -> LedgerRow:
    """The charge on one payment in; its own receipt, linked to the payment."""
    digest = hashlib.sha256(f"charge:{payment.receipt}".encode()).hexdigest()
    receipt = "C" + digest[:9].upper()
    return LedgerRow(
        kind=CHARGE,
        receipt=receipt,
        short_code=payment.short_code,
        phone="",
        initiated_at=payment.completed_at,
        completed_at=payment.completed_at,
        paid_in=0,
        withdrawn=charge_for(payment.paid_in),
        reason_type=CHARGE_REASON,
        details=f"{CHARGE_REASON} for {payment.receipt}",
        linked_receipt=payment.receipt,
    )
