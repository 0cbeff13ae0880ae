"""C2B register URL, as a part of ``DarajaClient`` (kept apart to keep
``client.py`` small)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from payments.daraja import answers, validation
from payments.daraja.exceptions import DarajaRejected, DarajaValidationError
from payments.daraja.transport import ExchangeHook, HttpAnswer
from payments.daraja.types import C2BRegisterResult

logger = logging.getLogger(__name__)

# Register URL refusals that look like other codes (daraja.md section 10):
# "URLs are already registered" shares its code with a throttle, and "no
# apiproduct match" (the other API version) comes as a 401.
C2B_ALREADY_REGISTERED = "500.003.1001"
C2B_WRONG_API_VERSION = "401.003.01"
C2B_REGISTER_REFUSALS = frozenset({C2B_ALREADY_REGISTERED, C2B_WRONG_API_VERSION})
C2B_REGISTER_PATHS = {
    "v1": "/mpesa/c2b/v1/registerurl",
    "v2": "/mpesa/c2b/v2/registerurl",
}


class C2BCallsMixin:
    """``c2b_register_urls``; needs the client's ``_call_api``."""

    _call_api: Callable[..., HttpAnswer]

    def c2b_register_urls(
        self,
        *,
        short_code: str,
        response_type: str,
        confirmation_url: str,
        validation_url: str,
        api_version: str = "v1",
        on_exchange: ExchangeHook | None = None,
    ) -> C2BRegisterResult:
        """Register the C2B confirmation and validation URLs on a shortcode.

        ``api_version`` picks ``/mpesa/c2b/v1/registerurl`` (payloads carry
        a hashed MSISDN) or ``/v2/`` (masked); it must match the product on
        the Daraja app. Not retried: production registration is one-time.

        Raises:
            DarajaValidationError: an input was refused; nothing was sent.
            DarajaRejected: Daraja refused (``500.003.1001`` already
                registered, ``401.003.01`` wrong API version, others).
            DarajaAuthError, DarajaUnavailable.
        """
        path = C2B_REGISTER_PATHS.get(api_version)
        if path is None:
            raise DarajaValidationError("api_version", "Give v1 or v2.")
        body = validation.c2b_register_body(
            short_code=short_code,
            response_type=response_type,
            confirmation_url=confirmation_url,
            validation_url=validation_url,
        )
        answer = self._call_api("c2b_register", path, body, on_exchange)
        raise_for_register_answer(answer)
        result = register_result(answer)
        logger.info(
            "C2B URLs registered on %s (%s, %s)", short_code, api_version, response_type
        )
        return result


def raise_for_register_answer(answer: HttpAnswer) -> None:
    """Raise what a register-URL error answer stands for; return on success.

    Raises:
        DarajaRejected: ``500.003.1001`` (already registered) or
            ``401.003.01`` (wrong API version), read as refusals rather
            than a throttle or a bad token; otherwise as ``raise_for_answer``.
    """
    code = answers.error_code(answer)
    if code is not None and code[0] in C2B_REGISTER_REFUSALS:
        raw = answer.body if isinstance(answer.body, dict) else None
        raise DarajaRejected(code[0], code[1], http_status=answer.status_code, raw=raw)
    answers.raise_for_answer("c2b_register", answer)


def register_result(answer: HttpAnswer) -> C2BRegisterResult:
    """Return the acknowledgement of a C2B URL registration.

    Raises:
        DarajaRejected: no ``ResponseCode`` "0" (or not a JSON object).
    """
    body = answer.body if isinstance(answer.body, dict) else {}
    response_code = answers.code_text(body.get("ResponseCode")) or ""
    if response_code != "0":
        raise DarajaRejected(
            response_code or "unknown",
            answers.plain_text(body.get("ResponseDescription")),
            http_status=answer.status_code,
            raw=body or None,
        )
    return C2BRegisterResult(
        # Daraja's own spelling (sic) in the register answer.
        originator_conversation_id=answers.plain_text(
            body.get("OriginatorCoversationID") or body.get("OriginatorConversationID")
        ),
        response_code=response_code,
        response_description=answers.plain_text(body.get("ResponseDescription")),
        raw=body,
    )
