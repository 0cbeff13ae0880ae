"""Which result a push ends in, and when.

Order of precedence: a scripted scenario for the phone, then a global
scripted scenario, then a till/paybill mismatch, then the phone table.
The phone table follows the seed guide (254708374149 succeeds, 254711…
cancels) and adds one number per interesting ResultCode; see
docs/simulator.md.
"""

import threading
from dataclasses import dataclass
from typing import Any

from .validation import PushRequest

SUCCESS = 0
RESULT_DESCRIPTIONS: dict[int | str, str] = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    17: "Rule limited.",
    1019: "Transaction has expired.",
    1032: "Request cancelled by user",
    1037: "DS timeout user cannot be reached",
    2001: "The initiator information is invalid.",
    2028: "The request is not permitted according to product assignment",
    "SFC_IC0003": "The operator does not exist.",
}
# Outcomes where the customer never answers: decided after stk_lifetime.
UNANSWERED = frozenset({1019, 1037})

PHONE_TABLE: dict[str, int | str] = {
    "254708374149": 0,
    "254700000001": 1,
    "254700000017": 17,
    "254700001019": 1019,
    "254700001037": 1037,
    "254700002001": 2001,
    "254700010003": "SFC_IC0003",
}
CANCEL_PREFIX = "254711"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result a push will end in and the seconds until it does."""

    result_code: int | str
    result_desc: str
    delay: float


@dataclass(slots=True)
class Scenario:
    """A scripted outcome: for one phone or for any, ``count`` times.

    ``count`` None means until reset. ``delay`` None means the configured
    callback_delay or stk_lifetime.
    """

    result_code: int | str
    phone: str | None = None
    result_desc: str | None = None
    delay: float | None = None
    count: int | None = 1

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return {
            "phone": self.phone,
            "result_code": self.result_code,
            "result_desc": self.result_desc,
            "delay": self.delay,
            "count": self.count,
        }


def normalise_code(value: Any) -> int | str:
    """Numeric codes as ints (callbacks send numbers), others as strings."""
    if isinstance(value, bool):
        raise ValueError("result_code must be a number or a string")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        raise ValueError("result_code must not be empty")
    return int(text) if text.lstrip("-").isdigit() else text


def describe(code: int | str) -> str:
    """Safaricom's wording for a ResultCode (paraphrased)."""
    return RESULT_DESCRIPTIONS.get(code, f"Simulated result {code}")


def table_code(push: PushRequest, short_code: str) -> int | str:
    """The ResultCode from the product rules and the phone table."""
    if push.transaction_type == "CustomerPayBillOnline" and push.party_b != short_code:
        return "SFC_IC0003"
    if push.transaction_type == "CustomerBuyGoodsOnline" and push.party_b == short_code:
        return 2028
    if push.phone.startswith(CANCEL_PREFIX):
        return 1032
    return PHONE_TABLE.get(push.phone, SUCCESS)


class ScenarioBook:
    """Scripted outcomes, consumed as pushes arrive. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scenarios: list[Scenario] = []

    def add(self, scenario: Scenario) -> None:
        """Queue a scenario behind those already scripted."""
        with self._lock:
            self._scenarios.append(scenario)

    def clear(self) -> None:
        """Forget every scripted scenario."""
        with self._lock:
            self._scenarios.clear()

    def listing(self) -> list[dict[str, Any]]:
        """The scenarios still waiting, in order."""
        with self._lock:
            return [scenario.as_dict() for scenario in self._scenarios]

    def take(self, phone: str) -> Scenario | None:
        """The first scenario for ``phone``, else the first global one."""
        with self._lock:
            chosen = next(
                (s for s in self._scenarios if s.phone == phone), None
            ) or next((s for s in self._scenarios if s.phone is None), None)
            if chosen is not None and chosen.count is not None:
                chosen.count -= 1
                if chosen.count <= 0:
                    self._scenarios.remove(chosen)
            return chosen


def decide_outcome(
    push: PushRequest,
    scenario: Scenario | None,
    *,
    short_code: str,
    callback_delay: float,
    stk_lifetime: float,
) -> Outcome:
    """The outcome of an accepted push."""
    if scenario is not None:
        code = scenario.result_code
        desc = scenario.result_desc or describe(code)
    else:
        code = table_code(push, short_code)
        desc = describe(code)
    default_delay = stk_lifetime if code in UNANSWERED else callback_delay
    delay = (
        default_delay if scenario is None or scenario.delay is None else scenario.delay
    )
    return Outcome(result_code=code, result_desc=desc, delay=max(0.0, delay))
