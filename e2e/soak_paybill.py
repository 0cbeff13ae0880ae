"""The soak's Paybill side (see ``e2e/soak.py``): who pays by hand, how.

A share of the bookings is paid through the simulator's
``POST /simulator/c2b/pay`` (Lipa na M-Pesa → Pay Bill) instead of STK,
with the booking's ``reference`` as the account number. Most pay exactly
what they owe, some type the reference in lower case with spaces and
dashes, a few pay too little or too much, and a few type an account number
that is no booking's. The simulator then posts the C2B confirmation to the
URLs the soak registered at its start.
"""

import base64
import random
from collections.abc import Callable

import requests

from e2e.soak import wait_until
from e2e.stack import Stack

EXACT = "exact"
TYPED = "typed"  # lower case, with spaces and dashes
UNDERPAID = "underpaid"
OVERPAID = "overpaid"
UNKNOWN_ACCOUNT = "unknown_account"
# The variants in turn, so even a small run has each of them.
VARIANTS = (EXACT, TYPED, UNDERPAID, EXACT, UNKNOWN_ACCOUNT, TYPED, OVERPAID, EXACT)
# Paid with the right amount and reference: the booking must be paid once.
RIGHT = (EXACT, TYPED)
WRONG_AMOUNT_BY = 50  # KES under or over what the booking costs
C2B_PATHS = {
    "ConfirmationURL": "/api/payment/c2b/confirmation/",
    "ValidationURL": "/api/payment/c2b/validation/",
}


def paybill_plan(count: int, share: float, seed: int) -> dict[int, str]:
    """Which of ``count`` bookings pay by Paybill, and how (its variant)."""
    picker = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    chosen = sorted(picker.sample(range(count), round(count * share)))
    return {index: VARIANTS[n % len(VARIANTS)] for n, index in enumerate(chosen)}


def account_for(reference: str, variant: str) -> str:
    """The account number the client types for ``reference``."""
    if variant == TYPED:
        return f" {reference[:2]}-{reference[2:5]} {reference[5:]}".lower()
    if variant == UNKNOWN_ACCOUNT:
        # Well formed, but no booking's: its last character changed.
        last = "X" if reference[-1] != "X" else "Y"
        return reference[:-1] + last
    return reference


def amount_for(amount: int, variant: str) -> int:
    """What the client pays for a booking of ``amount`` KES."""
    if variant == UNDERPAID:
        return amount - WRONG_AMOUNT_BY
    if variant == OVERPAID:
        return amount + WRONG_AMOUNT_BY
    return amount


def pay(simulator_url: str, *, phone: str, amount: int, account: str) -> dict:
    """``POST /simulator/c2b/pay``: validation (if on), then confirmation;
    the simulator's record of the payment."""
    answer = requests.post(
        f"{simulator_url}/simulator/c2b/pay",
        json={"phone": phone, "amount": amount, "account": account},
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()


def register_c2b_urls(stack: Stack, version: str) -> dict:
    """Register our confirmation and validation URLs on the shortcode
    through the simulator's ``/mpesa/c2b/<version>/registerurl``."""
    env = stack.env
    secret = env.get("MPESA_C2B_SECRET") or env["MPESA_CALLBACK_SECRET"]
    body = {
        "ShortCode": env.get("MPESA_C2B_SHORT_CODE")
        or env["MPESA_BUSINESS_SHORT_CODE"],
        "ResponseType": "Completed",
        **{name: f"{stack.web_url}{path}{secret}" for name, path in C2B_PATHS.items()},
    }
    answer = requests.post(
        f"{stack.simulator_url}/mpesa/c2b/{version}/registerurl",
        json=body,
        headers={"Authorization": f"Bearer {_token(stack)}"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()


def _token(stack: Stack) -> str:
    pair = f"{stack.env['MPESA_CONSUMER_KEY']}:{stack.env['MPESA_CONSUMER_SECRET']}"
    answer = requests.get(
        f"{stack.simulator_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def c2b_milestones(
    stack: Stack, *, count: int, double_share: float, version: str
) -> dict[int, list[Callable[[], None]]]:
    """What to switch when the driver reaches a booking: double
    notifications on for the last ``double_share`` of the bookings, and
    under ``alternate`` the other API version at each quarter. Each switch
    waits until the simulator has decided every earlier push, so the
    bookings before it are all on the old side (the simulator sends a
    double notification when it decides a push)."""
    steps: dict[int, list[Callable[[], None]]] = {}

    def at(index: int, step: Callable[[], None]) -> None:
        steps.setdefault(index, []).append(step)

    def decided() -> None:
        wait_until(
            lambda: not stack.simulator("GET", "ledger?payments=0")["processing"],
            timeout=60,
            what="pushes decided before a C2B switch",
        )

    if double_share > 0:
        start = round(count * (1 - double_share))
        if start > 0:
            at(start, decided)
        at(
            start,
            lambda: stack.simulator(
                "POST", "config", {"c2b_double_notification": True}
            ),
        )
    if version == "alternate":
        for quarter, turn in ((1, "v2"), (2, "v1"), (3, "v2")):
            if count * quarter // 4 > 0:
                at(
                    count * quarter // 4,
                    lambda turn=turn: register_c2b_urls(stack, turn),
                )
    return steps


def first_c2b_version(version: str) -> str:
    """The API version registered at the start (alternate starts on v1)."""
    return "v1" if version == "alternate" else version
