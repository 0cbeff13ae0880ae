"""Value objects of the Daraja adapter: results and exchanges.

The configuration (``DarajaConfig``, ``config_from_settings``) lives in
``payments.daraja.config`` and the initiator's and Pull Transactions'
types in their own modules; all are re-exported here for their importers.
"""

from __future__ import annotations

from dataclasses import dataclass

from payments.daraja.config import (  # noqa: F401 - re-exported
    BUY_GOODS,
    PAYBILL,
    DarajaConfig,
    DarajaEnvironment,
    config_from_settings,
)
from payments.daraja.initiator_config import (  # noqa: F401 - re-exported
    InitiatorConfig,
    b2c_configured,
    initiator_config_from_settings,
)
from payments.daraja.pull_types import (  # noqa: F401 - re-exported
    PullPage,
    PullRegistration,
    PullTransaction,
)


@dataclass(frozen=True, slots=True)
class StkPushResult:
    """Daraja accepted the push for processing (not paid: wait for outcome)."""

    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    response_description: str
    customer_message: str
    raw: dict


@dataclass(frozen=True, slots=True)
class StkQueryResult:
    """Daraja's answer to an STK query.

    ``is_processing`` is True while the outcome is not final (Daraja's
    ``500.001.1001`` "The transaction is being processed"); ``result_code``
    is then None. The answer carries no receipt, and its CheckoutRequestID
    is informational: correlate with the id you asked about.
    """

    result_code: str | None
    result_desc: str
    is_processing: bool
    merchant_request_id: str | None
    checkout_request_id: str | None
    raw: dict

    @property
    def is_success(self) -> bool:
        """True when Daraja reports the payment processed (ResultCode 0)."""
        return self.result_code == "0"


@dataclass(frozen=True, slots=True)
class C2BRegisterResult:
    """Daraja registered the C2B URLs on a shortcode (``ResponseCode`` 0)."""

    originator_conversation_id: str
    response_code: str
    response_description: str
    raw: dict


@dataclass(frozen=True, slots=True)
class AsyncAccepted:
    """Daraja accepted an asynchronous request (Reversal, B2C, Transaction
    Status). Not its outcome: that comes later to the ResultURL."""

    originator_conversation_id: str
    conversation_id: str
    response_code: str
    response_description: str
    raw: dict


# The QueueTimeOutURL notice is not a result: M-Pesa's queue gave up, and
# the request may or may not have been carried out (daraja.md section 10).
@dataclass(frozen=True, slots=True)
class AsyncResult:
    """A body posted to the ResultURL, or a QueueTimeOutURL notice.

    ``result_code`` is always text (``0`` -> ``"0"``; ``"R000001"``);
    ``parameters`` maps each ``ResultParameter`` Key to its Value as text.
    """

    result_type: int
    result_code: str
    result_desc: str
    originator_conversation_id: str
    conversation_id: str
    transaction_id: str
    parameters: dict[str, str]
    raw: dict
    timed_out: bool = False

    @property
    def is_success(self) -> bool:
        """True for a result with ResultCode 0 (never a time-out notice)."""
        return self.result_code == "0" and not self.timed_out

    @property
    def is_timeout(self) -> bool:
        """True for a QueueTimeOutURL notice: outcome still unknown."""
        return self.timed_out


@dataclass(frozen=True, slots=True)
class DarajaExchange:
    """One HTTP request and its response, with every secret removed.

    ``request_body`` has no Password; ``response_body`` has no access token;
    no headers are kept (they carry Basic auth and the bearer token).
    """

    # "oauth" | "stk_push" | "stk_query" | "c2b_register" | "reversal" |
    # "b2c_payment" | "transaction_status"
    operation: str
    method: str
    url: str
    request_body: dict | None
    status_code: int | None
    response_body: dict | str | None
    duration_ms: float
    error: str | None
