"""What the simulator remembers about each push and each callback."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .faults import FaultRule
from .identifiers import mask_phone
from .masking import mask_url
from .outcomes import SUCCESS, Outcome
from .validation import PushRequest

PROCESSING = "processing"
FINAL = "final"


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 text for JSON, or None."""
    return moment.isoformat() if moment is not None else None


@dataclass(slots=True)
class PushRecord:
    """One accepted STK push: the prompt, its outcome and its callbacks."""

    checkout_request_id: str
    merchant_request_id: str
    request: PushRequest
    outcome: Outcome
    faults: dict[str, FaultRule]
    created_at: datetime
    status: str = PROCESSING
    decided_at: datetime | None = None
    paid_amount: int | None = None
    receipt: str | None = None
    callback_ids: list[int] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Money moved: final with ResultCode 0."""
        return self.status == FINAL and self.outcome.result_code == SUCCESS

    def paid_amount_for(self) -> int:
        """The amount the customer pays, after any amount_mismatch fault."""
        rule = self.faults.get("amount_mismatch")
        asked = self.request.amount
        if rule is None:
            return asked
        if "paid_amount" in rule.params:
            return int(rule.params["paid_amount"])
        delta = int(rule.params.get("delta", -1 if asked > 1 else 1))
        return max(1, asked + delta)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the ledger."""
        return {
            "channel": "stk",
            "CheckoutRequestID": self.checkout_request_id,
            "MerchantRequestID": self.merchant_request_id,
            "phone": self.request.phone,
            "phone_masked": mask_phone(self.request.phone),
            "amount": self.request.amount,
            "paid_amount": self.paid_amount,
            "account_reference": self.request.account_reference,
            "callback_url": mask_url(self.request.callback_url),
            "status": self.status,
            "result_code": self.outcome.result_code if self.status == FINAL else None,
            "result_desc": self.outcome.result_desc if self.status == FINAL else None,
            "planned_result_code": self.outcome.result_code,
            "receipt": self.receipt,
            "faults": sorted(self.faults),
            "created_at": iso(self.created_at),
            "decided_at": iso(self.decided_at),
            "callback_ids": list(self.callback_ids),
        }


@dataclass(slots=True)
class CallbackRecord:
    """One callback the simulator sent, will send, or suppressed.

    ``state`` is scheduled, delivered (our server answered, any status),
    failed (no answer: refused, timed out) or suppressed (lost on purpose).
    """

    id: int
    checkout_request_id: str
    kind: str
    target: str
    body: dict[str, Any]
    state: str
    scheduled_for: datetime | None = None
    sent_at: datetime | None = None
    http_status: int | None = None
    response_body: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form for ``GET /simulator/callbacks``."""
        return {
            "id": self.id,
            "CheckoutRequestID": self.checkout_request_id,
            "kind": self.kind,
            "target": mask_url(self.target),
            "body": self.body,
            "state": self.state,
            "scheduled_for": iso(self.scheduled_for),
            "sent_at": iso(self.sent_at),
            "http_status": self.http_status,
            "response_body": self.response_body,
            "error": self.error,
        }
