"""A fake Daraja client handed to services: Daraja replaced at its boundary."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from payments.daraja.types import (
    AsyncAccepted,
    DarajaExchange,
    StkPushResult,
    StkQueryResult,
)

_ids = itertools.count(1)


def accepted_push(checkout_request_id: str | None = None) -> StkPushResult:
    checkout_request_id = checkout_request_id or f"ws_CO_FAKE{next(_ids):010d}"
    return StkPushResult(
        merchant_request_id="29115-34620561-1",
        checkout_request_id=checkout_request_id,
        response_code="0",
        response_description="Success. Request accepted for processing",
        customer_message="Success. Request accepted for processing",
        raw={"ResponseCode": "0", "CheckoutRequestID": checkout_request_id},
    )


def query_answer(result_code: str | None, desc: str = "") -> StkQueryResult:
    processing = result_code is None
    return StkQueryResult(
        result_code=result_code,
        result_desc=desc
        or ("The transaction is being processed" if processing else "done"),
        is_processing=processing,
        merchant_request_id=None,
        checkout_request_id=None,
        raw={"ResultCode": result_code},
    )


def accepted_async(
    originator_conversation_id: str, conversation_id: str | None = None
) -> AsyncAccepted:
    """Daraja's acknowledgement of a Reversal, B2C or Transaction Status."""
    conversation_id = conversation_id or f"AG_20261202_FAKE{next(_ids):08d}"
    return AsyncAccepted(
        originator_conversation_id=originator_conversation_id,
        conversation_id=conversation_id,
        response_code="0",
        response_description="Accept the service request successfully",
        raw={"ConversationID": conversation_id, "ResponseCode": "0"},
    )


@dataclass
class FakeDarajaClient:
    """Answers with ``push_result``/``query_result`` or raises them if they
    are exceptions; records every call and reports one exchange per call."""

    push_result: object = None  # None: accept with a fresh CheckoutRequestID
    query_result: object = field(default_factory=lambda: query_answer(None))
    pushes: list[dict] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    on_query: Callable[[str], None] | None = None
    # Money out: None accepts (echoing our OriginatorConversationID), an
    # AsyncAccepted is returned as it is, an exception is raised.
    reversal_result: object = None
    b2c_result: object = None
    status_result: object = None
    reversals: list[dict] = field(default_factory=list)
    b2c_payments: list[dict] = field(default_factory=list)
    status_queries: list[dict] = field(default_factory=list)
    on_send: Callable[[str, dict], None] | None = None

    def stk_push(self, *, on_exchange=None, **kwargs) -> StkPushResult:
        self.pushes.append(kwargs)
        self._report(on_exchange, "stk_push", {"PhoneNumber": kwargs["phone_number"]})
        return self._answer(self.push_result or accepted_push())

    def stk_query(
        self, *, checkout_request_id: str, on_exchange=None
    ) -> StkQueryResult:
        self.queries.append(checkout_request_id)
        if self.on_query:
            self.on_query(checkout_request_id)
        self._report(
            on_exchange, "stk_query", {"CheckoutRequestID": checkout_request_id}
        )
        return self._answer(self.query_result)

    def reversal(self, *, on_exchange=None, **kwargs) -> AsyncAccepted:
        return self._money_out("reversal", self.reversals, on_exchange, kwargs)

    def b2c_payment(self, *, on_exchange=None, **kwargs) -> AsyncAccepted:
        return self._money_out("b2c_payment", self.b2c_payments, on_exchange, kwargs)

    def transaction_status(self, *, on_exchange=None, **kwargs) -> AsyncAccepted:
        return self._money_out(
            "transaction_status", self.status_queries, on_exchange, kwargs
        )

    def _money_out(self, operation, calls: list, on_exchange, kwargs) -> AsyncAccepted:
        calls.append(kwargs)
        if self.on_send:
            self.on_send(operation, kwargs)
        body = {"OriginatorConversationID": kwargs["originator_conversation_id"]}
        self._report(on_exchange, operation, body)
        result = {
            "reversal": self.reversal_result,
            "b2c_payment": self.b2c_result,
            "transaction_status": self.status_result,
        }[operation]
        return self._answer(
            result or accepted_async(kwargs["originator_conversation_id"])
        )

    @staticmethod
    def _answer(result):
        if isinstance(result, BaseException):
            raise result
        return result

    @staticmethod
    def _report(on_exchange, operation: str, body: dict) -> None:
        if on_exchange:
            on_exchange(
                DarajaExchange(
                    operation=operation,
                    method="POST",
                    url=f"fake://{operation}",
                    request_body=body,
                    status_code=200,
                    response_body={"fake": True},
                    duration_ms=1.0,
                    error=None,
                )
            )
