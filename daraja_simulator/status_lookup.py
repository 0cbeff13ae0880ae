"""What Transaction Status finds: any receipt the simulator knows (an STK
or paybill payment, reversed or not; a reversal; a B2C payment), or the
money a Reversal or B2C moved, by its ConversationID or
OriginatorConversationID."""

from typing import Any

from . import initiator_results as results
from .identifiers import nairobi_now
from .initiator_checks import InitiatorCall
from .money_out import REVERSAL
from .state import SimulatorState


def lookup_transaction(
    state: SimulatorState, call: InitiatorCall
) -> dict[str, Any] | None:
    """The transaction a status query names, described for its result; None
    when the simulator knows of no money that moved under it."""
    book = state.money_out
    receipt = call.transaction_id
    if not receipt:
        earlier = book.find(conversation_id=call.original_conversation_id)
        if earlier is None or not earlier.moved_money:
            return None
        receipt = earlier.transaction_id
    paid = state.paid_receipt(receipt)
    if paid is not None:
        reversed_ = book.reversal_of(receipt) is not None
        return {
            "receipt": receipt,
            "amount": paid["amount"],
            "when": paid["when"] or nairobi_now(),
            "status": "Reversed" if reversed_ else "Completed",
            "reason_type": "Pay Utility"
            if paid["channel"] == "stk"
            else "Pay Bill Online",
            "debit_party": f"{paid['phone']} - {results.CUSTOMER_NAME}",
            "credit_party": f"{paid['short_code']} - {results.ORGANISATION_NAME}",
            "debit_account": "MMF Account",
        }
    out = book.find(receipt=receipt)
    if out is None or not out.moved_money:
        return None
    return {
        "receipt": receipt,
        "amount": out.amount,
        "when": out.created_at,
        "status": "Completed",
        "reason_type": "Reversal"
        if out.kind == REVERSAL
        else "Business Payment to Customer",
        "debit_party": f"{state.config.short_code} - {results.ORGANISATION_NAME}",
        "credit_party": f"{out.phone} - {results.CUSTOMER_NAME}",
        "debit_account": "Utility Account",
    }
