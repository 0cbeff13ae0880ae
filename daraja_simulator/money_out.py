"""Requests made as the organisation's initiator (Reversal, B2C,
Transaction Status), what became of each, and the money that went out.

The outcome is decided when the request is accepted, so the money (and a
Transaction Status answer) is true at once, whenever the result is sent,
or if it never is (``no_result``, ``queue_timeout`` faults).
"""

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .identifiers import mask_phone
from .masking import mask_url
from .records import iso

REVERSAL = "reversal"
B2C = "b2c"
TRANSACTION_STATUS = "transaction_status"
MONEY_KINDS = (REVERSAL, B2C)


@dataclass(slots=True)
class InitiatorRequest:
    """One accepted request and its decided outcome."""

    kind: str
    originator_conversation_id: str
    conversation_id: str
    result_url: str
    queue_timeout_url: str
    created_at: datetime
    result_code: int | str = 0
    result_desc: str = ""
    transaction_id: str = ""
    amount: int = 0
    phone: str = ""
    original_receipt: str = ""
    parameters: list[dict[str, Any]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def moved_money(self) -> bool:
        """A reversal or B2C that succeeded: money left the organisation."""
        return self.kind in MONEY_KINDS and str(self.result_code) == "0"

    def as_dict(self) -> dict[str, Any]:
        """JSON form for ``GET /simulator/money-out`` (URL secrets masked)."""
        return {
            "kind": self.kind,
            "OriginatorConversationID": self.originator_conversation_id,
            "ConversationID": self.conversation_id,
            "result_code": self.result_code,
            "result_desc": self.result_desc,
            "TransactionID": self.transaction_id,
            "amount": self.amount,
            "phone_masked": mask_phone(self.phone) if self.phone else "",
            "original_receipt": self.original_receipt,
            "moved_money": self.moved_money,
            "faults": list(self.faults),
            "result_url": mask_url(self.result_url),
            "queue_timeout_url": mask_url(self.queue_timeout_url),
            "created_at": iso(self.created_at),
            "deliveries": [dict(d) for d in self.deliveries],
        }


class MoneyOutBook:
    """Every initiator request; the index of reversed receipts. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[InitiatorRequest] = []
        self._by_originator: dict[tuple[str, str], InitiatorRequest] = {}
        self._reversed: dict[str, InitiatorRequest] = {}

    def previous(self, kind: str, originator_id: str) -> InitiatorRequest | None:
        """The earlier reversal or B2C request with this OriginatorConversationID."""
        with self._lock:
            return self._by_originator.get((kind, originator_id))

    def reversal_of(self, receipt: str) -> InitiatorRequest | None:
        """The successful reversal of ``receipt``, if any."""
        with self._lock:
            return self._reversed.get(receipt)

    def add(self, request: InitiatorRequest) -> InitiatorRequest:
        """Record ``request``; for reversal and B2C, the first one with its
        OriginatorConversationID wins and is returned (never twice)."""
        key = (request.kind, request.originator_conversation_id)
        with self._lock:
            if request.kind in MONEY_KINDS:
                earlier = self._by_originator.get(key)
                if earlier is not None:
                    return earlier
                self._by_originator[key] = request
            if request.kind == REVERSAL and request.moved_money:
                self._reversed[request.original_receipt] = request
            self._requests.append(request)
            return request

    def find(
        self, *, receipt: str = "", conversation_id: str = ""
    ) -> InitiatorRequest | None:
        """A reversal or B2C by its own receipt, or by its ConversationID
        or OriginatorConversationID."""
        with self._lock:
            for request in self._requests:
                if request.kind not in MONEY_KINDS:
                    continue
                if receipt and request.transaction_id == receipt:
                    return request
                if conversation_id and conversation_id in (
                    request.conversation_id,
                    request.originator_conversation_id,
                ):
                    return request
            return None

    def note_delivery(self, request: InitiatorRequest, note: dict[str, Any]) -> None:
        """Keep what happened to one POST of the result or notice."""
        with self._lock:
            request.deliveries.append(note)

    def totals(self) -> dict[str, int]:
        """Money out: counts and amounts per kind, and in all."""
        with self._lock:
            moved = [r for r in self._requests if r.moved_money]
        reversals = [r.amount for r in moved if r.kind == REVERSAL]
        payouts = [r.amount for r in moved if r.kind == B2C]
        return {
            "money_out_count": len(moved),
            "money_out_amount": sum(reversals) + sum(payouts),
            "reversal_count": len(reversals),
            "reversal_amount": sum(reversals),
            "b2c_count": len(payouts),
            "b2c_amount": sum(payouts),
        }

    def moved(self) -> list[InitiatorRequest]:
        """Every reversal and B2C that moved money, oldest first."""
        with self._lock:
            return [r for r in self._requests if r.moved_money]

    def listing(self) -> list[dict[str, Any]]:
        """Every request, oldest first."""
        with self._lock:
            return [r.as_dict() for r in self._requests]

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._requests.clear()
            self._by_originator.clear()
            self._reversed.clear()
