"""Fault switches: deterministic (next N times, per phone) or by rate.

A rule names one fault. Without ``probability`` it fires on the next
``count`` matching events (default 1); with ``probability`` it fires on
that share of matching events, drawn from the simulator's seeded
generator, ``count`` times (default: until reset). ``phone`` limits a rule
to one MSISDN; ``endpoint`` limits an HTTP fault to oauth, push, query,
reversal, b2c, transaction_status, pull_register or pull_query (and an
initiator fault to reversal, b2c or transaction_status).
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CALLBACK_FAULTS = frozenset(
    {
        "duplicate_callback",
        "late_callback",
        "lost_callback",
        "reorder_items",
        "amount_mismatch",
    }
)
HTTP_FAULTS = frozenset({"http_error", "slow"})
# Reversal, B2C and Transaction Status (money_out.py, initiator_api.py).
INITIATOR_FAULTS = frozenset(
    {
        "queue_timeout",
        "no_result",
        "delayed_result",
        "duplicate_result",
        "wrong_credential",
        "insufficient_balance",
        "duplicate_originator",
    }
)
ENDPOINTS = frozenset(
    {
        "oauth",
        "push",
        "query",
        "reversal",
        "b2c",
        "transaction_status",
        "pull_register",
        "pull_query",
        "any",
    }
)
_PARAMS = frozenset(
    {
        "status",
        "retry_after",
        "seconds",
        "delay",
        "gap",
        "paid_amount",
        "delta",
        "processed",
    }
)


@dataclass(slots=True)
class FaultRule:
    """One fault switch; see the module docstring."""

    fault: str
    endpoint: str = "any"
    phone: str | None = None
    probability: float | None = None
    count: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return {
            "fault": self.fault,
            "endpoint": self.endpoint,
            "phone": self.phone,
            "probability": self.probability,
            "count": self.count,
            **self.params,
        }


def rule_from_json(data: dict[str, Any]) -> FaultRule:
    """Validate one rule of ``POST /simulator/faults``; ValueError if bad."""
    fault = data.get("fault")
    if fault not in CALLBACK_FAULTS | HTTP_FAULTS | INITIATOR_FAULTS:
        raise ValueError(f"unknown fault {fault!r}")
    endpoint = data.get("endpoint", "any")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}")
    probability = data.get("probability")
    if probability is not None and not 0.0 <= float(probability) <= 1.0:
        raise ValueError("probability must be within 0..1")
    count = data.get("count", 1 if probability is None else None)
    if count is not None and int(count) < 1:
        raise ValueError("count must be at least 1")
    unknown = (
        set(data) - _PARAMS - {"fault", "endpoint", "phone", "probability", "count"}
    )
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    return FaultRule(
        fault=fault,
        endpoint=endpoint,
        phone=str(data["phone"]) if data.get("phone") else None,
        probability=None if probability is None else float(probability),
        count=None if count is None else int(count),
        params={key: data[key] for key in _PARAMS if key in data},
    )


class FaultBook:
    """The active fault rules. Thread-safe."""

    def __init__(self, uniform: Callable[[], float]) -> None:
        self._uniform = uniform
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        """Switch a fault on."""
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._rules.clear()

    def listing(self) -> list[dict[str, Any]]:
        """The active rules, in order."""
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

    def take(
        self, fault: str, *, phone: str | None, endpoint: str | None = None
    ) -> FaultRule | None:
        """The first matching rule that fires now (one use consumed)."""
        with self._lock:
            for rule in self._rules:
                if not self._matches(rule, fault, phone, endpoint):
                    continue
                if rule.probability is not None and self._uniform() >= rule.probability:
                    continue
                self._consume(rule)
                return rule
            return None

    def callback_faults(self, phone: str) -> dict[str, FaultRule]:
        """Every callback fault that fires for a push to ``phone``."""
        fired = {}
        for fault in sorted(CALLBACK_FAULTS):
            rule = self.take(fault, phone=phone)
            if rule is not None:
                fired[fault] = rule
        return fired

    @staticmethod
    def _matches(
        rule: FaultRule, fault: str, phone: str | None, endpoint: str | None
    ) -> bool:
        if rule.fault != fault:
            return False
        if rule.phone is not None and rule.phone != phone:
            return False
        return endpoint is None or rule.endpoint in ("any", endpoint)

    def _consume(self, rule: FaultRule) -> None:
        if rule.count is None:
            return
        rule.count -= 1
        if rule.count <= 0:
            self._rules.remove(rule)
