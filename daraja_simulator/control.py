"""The control API under ``/simulator/``: script outcomes, switch faults,
read the request log, the callback log, the ledger, the money out and
the org portal statement.

Bodies and answers are JSON; a bad request answers 400
``{"error": "..."}``. docs/simulator.md has the full reference.
"""

from collections.abc import Callable
from typing import Any

from .c2b_flow import C2BSender
from .callbacks import CallbackSender
from .faults import rule_from_json
from .messages import Request, Response, json_response
from .outcomes import CANCEL_PREFIX, PHONE_TABLE, Scenario, describe, normalise_code
from .scheduler import Scheduler
from .state import SimulatorState
from .statement import statement_response

Handler = Callable[[Request], Response]


class ControlApi:
    """Routes ``/simulator/...`` requests to small handlers."""

    def __init__(
        self,
        state: SimulatorState,
        sender: CallbackSender,
        scheduler: Scheduler,
        c2b: C2BSender,
    ) -> None:
        self._state = state
        self._c2b = c2b
        self._sender = sender
        self._scheduler = scheduler
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", ""): self._index,
            ("GET", "config"): self._get_config,
            ("POST", "config"): self._set_config,
            ("GET", "scenarios"): self._get_scenarios,
            ("POST", "scenarios"): self._add_scenarios,
            ("DELETE", "scenarios"): self._clear_scenarios,
            ("GET", "faults"): self._get_faults,
            ("POST", "faults"): self._add_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("POST", "reset"): self._reset,
            ("POST", "decide"): self._decide,
            ("GET", "requests"): self._requests,
            ("GET", "callbacks"): self._callbacks,
            ("GET", "ledger"): self._ledger,
            ("GET", "c2b"): self._get_c2b,
            ("POST", "c2b/validation"): self._set_c2b_validation,
            ("POST", "c2b/pay"): self._c2b_pay,
            ("GET", "money-out"): self._money_out,
            ("GET", "statement"): self._statement,
            ("GET", "pull"): self._pull,
        }

    def handle(self, request: Request) -> Response:
        """Answer one control request."""
        name = request.path.removeprefix("/simulator").strip("/")
        handler = self._routes.get((request.method, name))
        if handler is None:
            return json_response(
                404, {"error": f"no {request.method} /simulator/{name}"}
            )
        try:
            return handler(request)
        except (ValueError, TypeError, KeyError) as exc:
            return json_response(400, {"error": str(exc)})

    # --- reading ----------------------------------------------------------

    def _index(self, request: Request) -> Response:
        return json_response(200, index_document(self._state))

    def _get_config(self, request: Request) -> Response:
        return json_response(200, self._state.config.public())

    def _get_scenarios(self, request: Request) -> Response:
        return json_response(200, {"scenarios": self._state.scenarios.listing()})

    def _get_faults(self, request: Request) -> Response:
        return json_response(200, {"faults": self._state.faults.listing()})

    def _requests(self, request: Request) -> Response:
        entries = self._state.requests(
            path=request.param("path"), since=int(request.param("since", "0") or 0)
        )
        return json_response(200, {"count": len(entries), "requests": entries})

    def _callbacks(self, request: Request) -> Response:
        entries = self._state.callbacks(since=int(request.param("since", "0") or 0))
        return json_response(200, {"count": len(entries), "callbacks": entries})

    def _ledger(self, request: Request) -> Response:
        with_payments = request.param("payments", "1") not in ("0", "false", "no")
        return json_response(200, self._state.ledger(with_payments=with_payments))

    def _money_out(self, request: Request) -> Response:
        """Money out (reversals, B2C) and every initiator request."""
        ledger = self._state.ledger(with_payments=False)
        keys = (
            "money_in_amount",
            "money_out_count",
            "money_out_amount",
            "reversal_count",
            "reversal_amount",
            "b2c_count",
            "b2c_amount",
            "net_balance",
        )
        body = {key: ledger[key] for key in keys}
        body["b2c_available"] = int(self._state.config.b2c_balance) - body["b2c_amount"]
        body["requests"] = self._state.money_out.listing()
        return json_response(200, body)

    def _statement(self, request: Request) -> Response:
        """The org portal statement (CSV or xlsx) from the ledger."""
        return statement_response(self._state, request)

    def _pull(self, request: Request) -> Response:
        return json_response(200, {"registrations": self._state.pull.listing()})

    def _get_c2b(self, request: Request) -> Response:
        return json_response(200, self._state.c2b.listing())

    # --- changing ---------------------------------------------------------

    def _set_config(self, request: Request) -> Response:
        config = self._state.update_config(_object(request))
        return json_response(200, config.public())

    def _add_scenarios(self, request: Request) -> Response:
        data = _object(request)
        for item in data.get("scenarios", [data]):
            self._state.scenarios.add(_scenario(item))
        return json_response(201, {"scenarios": self._state.scenarios.listing()})

    def _clear_scenarios(self, request: Request) -> Response:
        self._state.scenarios.clear()
        return json_response(200, {"scenarios": []})

    def _add_faults(self, request: Request) -> Response:
        data = _object(request)
        if "seed" in data:
            self._state.ids.reseed(data["seed"])
        for item in data.get("rules", [data] if "fault" in data else []):
            self._state.faults.add(rule_from_json(item))
        return json_response(201, {"faults": self._state.faults.listing()})

    def _clear_faults(self, request: Request) -> Response:
        self._state.faults.clear()
        return json_response(200, {"faults": []})

    def _reset(self, request: Request) -> Response:
        data = _object(request) if request.body else {}
        self._scheduler.clear()
        self._state.reset(
            tokens=bool(data.get("tokens", False)),
            c2b_urls=bool(data.get("c2b_urls", False)),
        )
        return json_response(200, {"reset": True})

    def _decide(self, request: Request) -> Response:
        data = _object(request) if request.body else {}
        wanted = data.get("CheckoutRequestID")
        ledger = self._state.ledger()["payments"]
        decided = [
            p["CheckoutRequestID"]
            for p in ledger
            if p["status"] == "processing" and wanted in (None, p["CheckoutRequestID"])
        ]
        for checkout_id in decided:
            self._sender.decide(checkout_id)
        return json_response(200, {"decided": decided})

    def _set_c2b_validation(self, request: Request) -> Response:
        data = _object(request)
        short_code = str(data.get("short_code") or self._state.config.short_code)
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError("enabled must be true or false")
        self._state.c2b.set_validation(short_code, enabled)
        return json_response(200, {"short_code": short_code, "enabled": enabled})

    def _c2b_pay(self, request: Request) -> Response:
        return json_response(200, self._c2b.pay(_object(request)))


def _object(request: Request) -> dict[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _scenario(item: dict[str, Any]) -> Scenario:
    if "result_code" not in item:
        raise ValueError("result_code is required")
    count = item.get("count", 1)
    delay = item.get("delay")
    return Scenario(
        result_code=normalise_code(item["result_code"]),
        phone=str(item["phone"]) if item.get("phone") else None,
        result_desc=item.get("result_desc"),
        delay=None if delay is None else float(delay),
        count=None if count is None else int(count),
    )


def index_document(state: SimulatorState) -> dict[str, Any]:
    """What ``GET /simulator/`` shows: endpoints, phone table, settings."""
    table = {
        phone: {"result_code": code, "result_desc": describe(code)}
        for phone, code in PHONE_TABLE.items()
    }
    table[CANCEL_PREFIX + "xxxxxx"] = {
        "result_code": 1032,
        "result_desc": describe(1032),
    }
    return {
        "name": "Local Daraja simulator (see docs/simulator.md)",
        "daraja": [
            "GET /oauth/v1/generate?grant_type=client_credentials",
            "POST /mpesa/stkpush/v1/processrequest",
            "POST /mpesa/stkpushquery/v1/query",
            "POST /mpesa/c2b/v1/registerurl",
            "POST /mpesa/c2b/v2/registerurl",
            "POST /mpesa/reversal/v1/request",
            "POST /mpesa/b2c/v3/paymentrequest",
            "POST /mpesa/transactionstatus/v1/query",
            "POST /pulltransactions/v1/register",
            "POST /pulltransactions/v1/query",
        ],
        "control": {
            "GET /simulator/": "this index",
            "GET|POST /simulator/config": "read or change timings and switches",
            "GET|POST|DELETE /simulator/scenarios": "script the next outcome(s)",
            "GET|POST|DELETE /simulator/faults": "switch faults on (rules) or off",
            "POST /simulator/reset": "forget pushes, logs, scenarios, faults",
            "POST /simulator/decide": "end open prompts now",
            "GET /simulator/requests?path=&since=": "every Daraja request received",
            "GET /simulator/callbacks?since=": "every callback sent or suppressed",
            "GET /simulator/ledger?payments=0": "money that moved, per push",
            "GET /simulator/c2b": "registered C2B URLs, validation switches",
            "POST /simulator/c2b/validation": "external validation on/off",
            "POST /simulator/c2b/pay": "a paybill payment: validate, confirm",
            "GET /simulator/money-out": "reversals and B2C: money out, results",
            "GET /simulator/statement?from=&to=&format=csv|xlsx&short_code=": (
                "the org portal statement from the ledger"
            ),
            "GET /simulator/pull": "shortcodes registered for Pull Transactions",
        },
        "phones": table,
        "other_valid_phones": "succeed (ResultCode 0)",
        "config": state.config.public(),
    }
