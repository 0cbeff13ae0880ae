"""What Daraja's result codes mean for the customer, in plain language.

Codes arrive as numbers in callbacks and strings in query answers; callers
normalise with ``str(code).strip()`` before looking them up here. Sources:
``../shared/daraja.md`` section 4.
"""

SUCCESS = "0"

# Query/push answers that are not final: never treat them as failures.
STILL_PROCESSING_ERROR = "500.001.1001"

FAILURE_REASONS: dict[str, str] = {
    "1": "Your M-Pesa balance was not enough for this payment.",
    "2": "The amount is below the M-Pesa minimum.",
    "3": "The amount is above the M-Pesa limit for one payment.",
    "4": "This payment would exceed your daily M-Pesa limit.",
    "8": "The receiving account cannot take this payment now.",
    "17": "A payment of the same amount was just made; wait 2 minutes.",
    "26": "M-Pesa is busy. Please try again.",
    "1001": "Another M-Pesa prompt is open on your phone. Finish it first.",
    "1019": "The payment request expired before it was completed.",
    "1025": "M-Pesa could not send the prompt to your phone.",
    "1031": "You cancelled the payment on your phone.",
    "1032": "You cancelled the payment on your phone.",
    "1037": "Your phone could not be reached, or the prompt was not answered.",
    "2001": "The M-Pesa PIN entered was wrong.",
    "2028": "This payment type is not allowed for our account.",
    "8006": "Your M-Pesa PIN is locked. Call 100 or 200 to unlock it.",
    "9999": "M-Pesa could not send the prompt to your phone.",
    "SFC_IC0003": "The payment could not be routed to our account.",
}

# The short machine-readable kind the SPA and the checkout page switch on.
FAILURE_KINDS: dict[str, str] = {
    "1": "insufficient_funds",
    "1031": "cancelled",
    "1032": "cancelled",
    "1037": "no_answer",
    "1019": "expired",
    "2001": "wrong_pin",
}


def failure_reason(result_code: str, result_desc: str = "") -> str:
    """A customer-facing sentence for a failed result code."""
    reason = FAILURE_REASONS.get(str(result_code).strip())
    if reason:
        return reason
    return result_desc or "The payment was not completed."


def failure_kind(result_code: str) -> str:
    """``cancelled``, ``insufficient_funds``, ``wrong_pin``, ... or ``failed``."""
    return FAILURE_KINDS.get(str(result_code).strip(), "failed")
