"""The Daraja client: OAuth, STK Push, STK Push Query, C2B register URL.

Usage::

    client = get_client()
    result = client.stk_push(phone_number="0712 345 678", amount=1500,
                             account_reference="BK1042",
                             transaction_desc="Consultation")

Idempotent calls (OAuth, STK query) are retried here with bounded
exponential backoff and full jitter; an STK push never is, since a resent
push can prompt the customer twice.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import requests
from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache

from payments.daraja import answers, validation
from payments.daraja.exceptions import (
    DarajaError,
    DarajaUnavailable,
    DarajaValidationError,
)
from payments.daraja.tokens import TokenStore
from payments.daraja.transport import (
    ExchangeHook,
    HttpAnswer,
    HttpRequest,
    shared_session,
)
from payments.daraja.transport import send as http_send
from payments.daraja.types import (
    C2BRegisterResult,
    DarajaConfig,
    StkPushResult,
    StkQueryResult,
    config_from_settings,
)
from payments.phone import mask_phone

logger = logging.getLogger(__name__)

T = TypeVar("T")

OAUTH_PATH = "/oauth/v1/generate?grant_type=client_credentials"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
C2B_REGISTER_PATHS = {
    "v1": "/mpesa/c2b/v1/registerurl",
    "v2": "/mpesa/c2b/v2/registerurl",
}


class DarajaClient:
    """Talks to one Daraja app (consumer key) on one host.

    Thread-safe; cheap to build: the HTTP session and the token (in Django's
    cache) are shared by every client in the process.
    """

    def __init__(
        self,
        config: DarajaConfig,
        *,
        cache: BaseCache | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.config = config
        self._session = session or shared_session()
        self._sleep = sleep
        self._tokens = TokenStore(
            default_cache if cache is None else cache,
            base_url=config.base_url,
            consumer_key=config.consumer_key,
            lock_seconds=config.connect_timeout + config.read_timeout + 5,
        )

    def __repr__(self) -> str:
        return f"DarajaClient({self.config!r})"

    def access_token(self, *, on_exchange: ExchangeHook | None = None) -> str:
        """Return the shared access token, fetching one only if needed.

        Side effects: at most one OAuth request for all callers sharing the
        cache; retried with backoff when Daraja is unavailable.

        Raises:
            DarajaAuthError: the consumer key or secret was refused.
            DarajaUnavailable: OAuth failed after every attempt.
        """
        token = self._tokens.get()
        if token is not None:
            return token
        return self._obtain_token(stale=None, on_exchange=on_exchange)

    def stk_push(
        self,
        *,
        phone_number: str | int,
        amount: object,
        account_reference: str,
        transaction_desc: str | None,
        callback_url: str | None = None,
        on_exchange: ExchangeHook | None = None,
    ) -> StkPushResult:
        """Ask Daraja to prompt ``phone_number`` to pay ``amount`` KES.

        Every input is validated before any request. Never retried: the
        result means "accepted for processing", not "paid".

        Raises:
            DarajaValidationError: an input was refused; nothing was sent.
            DarajaRejected: Daraja refused the push (``is_subscriber_locked``
                when the customer already has a prompt open).
            DarajaAuthError: credentials or token refused after a refresh.
            DarajaUnavailable: not sent, or refused unprocessed (throttled).
            DarajaOutcomeUnknown: sent, but no usable answer came back.
        """
        body = validation.push_body(
            self.config,
            phone_number=phone_number,
            amount=amount,
            account_reference=account_reference,
            transaction_desc=transaction_desc,
            callback_url=callback_url,
        )
        masked = mask_phone(body["PhoneNumber"])
        try:
            answer = self._call_api("stk_push", STK_PUSH_PATH, body, on_exchange)
            answers.raise_for_answer("stk_push", answer)
            result = answers.push_result(answer)
        except DarajaError as exc:
            logger.warning(
                "STK push to %s for KES %s failed: %s", masked, body["Amount"], exc
            )
            raise
        logger.info(
            "STK push to %s for KES %s accepted: %s",
            masked,
            body["Amount"],
            result.checkout_request_id,
            extra={"checkout_request_id": result.checkout_request_id},
        )
        return result

    def stk_query(
        self, *, checkout_request_id: str, on_exchange: ExchangeHook | None = None
    ) -> StkQueryResult:
        """Ask Daraja for the state of an STK push.

        ``is_processing`` means "not final yet, ask again later". Retried with
        backoff while Daraja is unavailable (bounded; ``Retry-After`` kept).
        A ``DarajaRejected`` here says nothing about the payment: treat it
        as indeterminate, never as failed.

        Raises:
            DarajaValidationError: empty ``checkout_request_id``.
            DarajaRejected, DarajaAuthError, DarajaUnavailable.
        """
        checkout_request_id = answers.require_checkout_id(checkout_request_id)
        result = self._retrying(
            "stk_query", partial(self._query_once, checkout_request_id, on_exchange)
        )
        logger.info(
            "STK query for %s: result %s, processing %s",
            checkout_request_id,
            result.result_code,
            result.is_processing,
            extra={"checkout_request_id": checkout_request_id},
        )
        return result

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
        answers.raise_for_register_answer(answer)
        result = answers.register_result(answer)
        logger.info(
            "C2B URLs registered on %s (%s, %s)", short_code, api_version, response_type
        )
        return result

    # --- internals -----------------------------------------------------------

    def _query_once(
        self, checkout_request_id: str, on_exchange: ExchangeHook | None
    ) -> StkQueryResult:
        body = validation.query_body(self.config, checkout_request_id)
        answer = self._call_api("stk_query", STK_QUERY_PATH, body, on_exchange)
        processing = answers.processing_result(answer)
        if processing is not None:
            return processing
        answers.raise_for_answer("stk_query", answer)
        return answers.query_result(answer)

    def _call_api(
        self, operation: str, path: str, body: dict, on_exchange: ExchangeHook | None
    ) -> HttpAnswer:
        token = self.access_token(on_exchange=on_exchange)
        answer = self._post(operation, path, body, token, on_exchange)
        if not answers.is_invalid_token(answer):
            return answer
        # Expired early, or replaced by a newer token: refresh once, retry
        # once (Daraja refused it unprocessed, so even a push is safe).
        logger.warning("Daraja refused the access token for %s; refreshing", operation)
        token = self._obtain_token(stale=token, on_exchange=on_exchange)
        answer = self._post(operation, path, body, token, on_exchange)
        if answers.is_invalid_token(answer):
            answers.raise_for_answer(operation, answer)
        return answer

    def _post(
        self,
        operation: str,
        path: str,
        body: dict,
        token: str,
        on_exchange: ExchangeHook | None,
    ) -> HttpAnswer:
        request = HttpRequest(
            operation=operation,
            method="POST",
            url=self.config.base_url + path,
            timeout=self.config.timeout,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token, self.config.passkey),
        )
        return http_send(self._session, request, on_exchange)

    def _obtain_token(
        self, *, stale: str | None, on_exchange: ExchangeHook | None
    ) -> str:
        fetch = partial(self._fetch_token, on_exchange)
        return self._retrying("oauth", partial(self._tokens.obtain, fetch, stale=stale))

    def _fetch_token(self, on_exchange: ExchangeHook | None) -> tuple[str, int]:
        config = self.config
        request = HttpRequest(
            operation="oauth",
            method="GET",
            url=config.base_url + OAUTH_PATH,
            timeout=config.timeout,
            auth=(config.consumer_key, config.consumer_secret),
            secrets=(config.consumer_secret,),
        )
        answer = http_send(self._session, request, on_exchange)
        answers.raise_for_answer("oauth", answer)
        return answers.token_answer(answer)

    def _retrying(self, operation: str, call: Callable[[], T]) -> T:
        config = self.config
        return call_with_retries(
            call,
            operation=operation,
            max_attempts=config.max_attempts,
            base=config.backoff_base,
            cap=config.backoff_cap,
            sleep=self._sleep,
        )


def get_client() -> DarajaClient:
    """Return a client configured from Django settings (read now).

    Raises:
        ImproperlyConfigured: naming every missing ``MPESA_*`` setting.
    """
    from django.conf import settings

    return DarajaClient(config_from_settings(settings))


# --- Retries of idempotent calls ----------------------------------------------


def backoff_delay(
    attempt: int, *, base: float, cap: float, retry_after: float | None = None
) -> float:
    """Seconds to wait after failed ``attempt`` (1-based).

    Full jitter (uniform in ``[0, min(cap, base * 2**(attempt-1))]``) spreads
    the retries of many workers; ``Retry-After``, when sent, is a floor.
    """
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def call_with_retries(
    call: Callable[[], T],
    *,
    operation: str,
    max_attempts: int,
    base: float,
    cap: float,
    sleep: Callable[[float], object],
) -> T:
    """Return ``call()``, retrying ``DarajaUnavailable`` at most
    ``max_attempts`` times in all.

    A ``Retry-After`` longer than ``cap`` is not slept through: the error is
    raised at once with its ``retry_after`` so the caller (a Celery task)
    can reschedule instead of holding a worker.

    Raises:
        DarajaUnavailable: the last attempt's error.
    """
    attempt = 1
    while True:
        try:
            return call()
        except DarajaUnavailable as exc:
            if attempt >= max_attempts or (exc.retry_after or 0) > cap:
                raise
            delay = backoff_delay(
                attempt, base=base, cap=cap, retry_after=exc.retry_after
            )
            logger.warning(
                "Daraja %s unavailable (attempt %s of %s: %s); retrying in %.2f s",
                operation,
                attempt,
                max_attempts,
                exc.message,
                delay,
            )
            sleep(delay)
            attempt += 1
