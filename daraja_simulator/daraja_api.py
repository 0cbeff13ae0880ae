"""The Daraja endpoints: OAuth, STK Push, STK Push Query, C2B register URL;
Reversal, B2C and Transaction Status (their work is in ``initiator_api``);
Pull Transactions register and query (``pull_api``).

Each answer passes through two fault switches first: ``http_error``
answers a 5xx or 429 before anything else happens (the push did NOT
happen), and ``slow`` sleeps before answering after the work is done (a
slow push DID happen: the prompt opens and the callback follows, as when
a client's read times out on the real Daraja).
"""

import base64
import binascii
import hmac
import logging
from typing import Any

from . import errors
from .c2b import REGISTER_DESCRIPTION, check_registration
from .callbacks import CallbackSender
from .errors import DarajaError
from .faults import FaultRule
from .identifiers import mask_phone, nairobi_now
from .initiator_api import InitiatorApi
from .messages import Request, Response, json_response
from .outcomes import Outcome, decide_outcome
from .pull_api import pull_query, pull_register
from .records import FINAL
from .state import SimulatorState
from .validation import Credentials, check_push, check_query

logger = logging.getLogger(__name__)
ACK_DESCRIPTION = "Success. Request accepted for processing"
QUERY_DESCRIPTION = "The service request has been accepted successfully"
_NO_PHONE_ENDPOINTS = frozenset(
    {"reversal", "transaction_status", "pull_register", "pull_query"}
)
_GATEWAY_PAGE = "<html><body><h1>{status} Service Unavailable</h1></body></html>"


class DarajaApi:
    """Answers Daraja requests from the shared state."""

    def __init__(
        self,
        state: SimulatorState,
        sender: CallbackSender,
        initiator: InitiatorApi,
    ) -> None:
        self._state = state
        self._sender = sender
        self._initiator = initiator

    def handle(self, endpoint: str, request: Request, request_id: str) -> Response:
        """Answer one request to ``endpoint`` (oauth, push, query, c2b_*)."""
        phone = self._phone_of(endpoint, request)
        faults = self._state.faults
        failure = faults.take("http_error", phone=phone, endpoint=endpoint)
        if failure is not None:
            return _fault_response(failure, self._pick_status(failure), request_id)
        slow = faults.take("slow", phone=phone, endpoint=endpoint)
        try:
            response = getattr(self, "_" + endpoint)(request)
        except DarajaError as exc:
            response = Response(exc.status, exc.body(request_id), dict(exc.headers))
        response.delay += self._state.config.response_delay
        if slow is not None:
            response.delay += float(slow.params.get("seconds", 35.0))
        return response

    # --- endpoints --------------------------------------------------------

    def _oauth(self, request: Request) -> Response:
        _require_method(request, "GET")
        if request.param("grant_type") != "client_credentials":
            raise DarajaError(
                400, errors.OAUTH_INVALID_GRANT, "Invalid grant type passed"
            )
        self._check_basic_auth(request.header("Authorization"))
        token = self._state.issue_token()
        lifetime = self._state.config.token_lifetime
        # Real Daraja often sends expires_in as a string; so do we.
        return json_response(200, {"access_token": token, "expires_in": str(lifetime)})

    def _push(self, request: Request) -> Response:
        body = self._authorised_json(request, "POST")
        config = self._state.config
        push = check_push(body, self._credentials(), nairobi_now())
        scenario_book, fault_book = self._state.scenarios, self._state.faults

        def plan() -> tuple[Outcome, dict[str, FaultRule]]:
            outcome = decide_outcome(
                push,
                scenario_book.take(push.phone),
                short_code=config.short_code,
                callback_delay=config.callback_delay,
                stk_lifetime=config.stk_lifetime,
            )
            return outcome, fault_book.callback_faults(push.phone)

        record = self._state.open_push(push, plan)
        self._sender.schedule_decision(record)
        logger.info(
            "push %s accepted for %s, KES %s",
            record.checkout_request_id,
            mask_phone(push.phone),
            push.amount,
        )
        return json_response(
            200,
            {
                "MerchantRequestID": record.merchant_request_id,
                "CheckoutRequestID": record.checkout_request_id,
                "ResponseCode": "0",
                "ResponseDescription": ACK_DESCRIPTION,
                "CustomerMessage": ACK_DESCRIPTION,
            },
        )

    def _query(self, request: Request) -> Response:
        body = self._authorised_json(request, "POST")
        checkout_id = check_query(body, self._credentials(), nairobi_now())
        record = self._state.find_push(checkout_id)
        if record is None:
            raise errors.server_error(errors.NO_SUCH_TRANSACTION_MESSAGE)
        if record.status != FINAL:
            raise errors.server_error(errors.PROCESSING_MESSAGE, request_id=checkout_id)
        return json_response(
            200,
            {
                "ResponseCode": "0",
                "ResponseDescription": QUERY_DESCRIPTION,
                "MerchantRequestID": record.merchant_request_id,
                "CheckoutRequestID": record.checkout_request_id,
                "ResultCode": str(record.outcome.result_code),
                "ResultDesc": record.outcome.result_desc,
            },
        )

    def _c2b_register_v1(self, request: Request) -> Response:
        return self._c2b_register(request, "v1")

    def _c2b_register_v2(self, request: Request) -> Response:
        return self._c2b_register(request, "v2")

    def _c2b_register(self, request: Request, version: str) -> Response:
        """Store a shortcode's C2B URLs; once only in production style."""
        body = self._authorised_json(request, "POST")
        config = self._state.config
        registration = check_registration(
            body, version, forbid_keywords=config.forbid_callback_keywords
        )
        self._state.c2b.register(registration, once=config.c2b_production_style)
        logger.info(
            "C2B %s URLs registered for %s (%s)",
            version,
            registration.short_code,
            registration.response_type,
        )
        return json_response(
            200,
            {
                "OriginatorCoversationID": self._state.ids.request_id(),
                "ResponseCode": "0",
                "ResponseDescription": REGISTER_DESCRIPTION,
            },
        )

    def _reversal(self, request: Request) -> Response:
        return self._initiator.reversal(self._authorised_json(request, "POST"))

    def _b2c(self, request: Request) -> Response:
        return self._initiator.b2c(self._authorised_json(request, "POST"))

    def _transaction_status(self, request: Request) -> Response:
        body = self._authorised_json(request, "POST")
        return self._initiator.transaction_status(body)

    def _pull_register(self, request: Request) -> Response:
        return pull_register(self._state, self._authorised_json(request, "POST"))

    def _pull_query(self, request: Request) -> Response:
        return pull_query(self._state, self._authorised_json(request, "POST"))

    def _pick_status(self, rule: FaultRule) -> int:
        """The rule's ``status``; a list means one of them at random."""
        status = rule.params.get("status", 503)
        if isinstance(status, list):
            index = int(self._state.ids.uniform() * len(status))
            return int(status[min(index, len(status) - 1)])
        return int(status)

    # --- checks -----------------------------------------------------------

    def _credentials(self) -> Credentials:
        config = self._state.config
        return Credentials(
            short_code=config.short_code,
            passkey=config.passkey,
            timestamp_tolerance=config.timestamp_tolerance,
            forbid_callback_keywords=config.forbid_callback_keywords,
        )

    def _check_basic_auth(self, header: str | None) -> None:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise DarajaError(
                400, errors.OAUTH_INVALID_AUTH, "Invalid authentication type passed"
            )
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        config = self._state.config
        expected = f"{config.consumer_key}:{config.consumer_secret}"
        if not hmac.compare_digest(decoded.encode(), expected.encode()):
            raise DarajaError(
                400, errors.OAUTH_INVALID_AUTH, "Invalid Authentication passed"
            )

    def _authorised_json(self, request: Request, method: str) -> dict[str, Any]:
        """Bearer token, then Content-Type, then a JSON object body."""
        _require_method(request, method)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise DarajaError(
                404, errors.INVALID_AUTH_HEADER, "Invalid Authentication Header"
            )
        if not self._state.token_is_valid(token.strip()):
            raise errors.invalid_token()
        content_type = (request.header("Content-Type") or "").lower()
        if "application/json" not in content_type:
            # Daraja FAQ: a missing Content-Type shows as this error.
            raise errors.bad_request("BusinessShortCode")
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise DarajaError(400, errors.INVALID_PAYLOAD, "Invalid Request Payload")
        return body

    def _phone_of(self, endpoint: str, request: Request) -> str | None:
        """The subscriber a request concerns, for per-phone faults."""
        if endpoint == "oauth":
            return None
        try:
            body = request.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        if endpoint == "push":
            return str(body.get("PhoneNumber", "")) or None
        if endpoint == "b2c":
            return str(body.get("PartyB", "")) or None
        if endpoint in _NO_PHONE_ENDPOINTS:
            return None
        record = self._state.find_push(str(body.get("CheckoutRequestID", "")))
        return record.request.phone if record is not None else None


def _require_method(request: Request, method: str) -> None:
    if request.method != method:
        raise DarajaError(405, errors.METHOD_NOT_ALLOWED, "Method Not Allowed")


def _fault_response(rule: FaultRule, status: int, request_id: str) -> Response:
    """A scripted failure: 429 spike arrest, a JSON 500, or a gateway page."""
    headers = {}
    if status == 429 or "retry_after" in rule.params:
        headers["Retry-After"] = str(rule.params.get("retry_after", 1))
    if status in (502, 503, 504):
        page = _GATEWAY_PAGE.format(status=status)
        return Response(status, page, headers, content_type="text/html")
    if status == 429:
        error = DarajaError(
            status, errors.SPIKE_ARREST, "Error Occurred: Spike Arrest Violation"
        )
    else:
        error = DarajaError(status, errors.INTERNAL_ERROR, "Internal Server Error")
    return Response(status, error.body(request_id), headers)
