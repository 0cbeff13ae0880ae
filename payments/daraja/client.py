"""The Daraja client: OAuth, STK Push, STK Push Query, C2B register URL,
Pull Transactions.

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
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import requests
from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache

from payments.daraja import answers, validation
from payments.daraja.c2b_calls import C2BCallsMixin
from payments.daraja.exceptions import DarajaError
from payments.daraja.initiator_calls import InitiatorCallsMixin, InitiatorSource
from payments.daraja.pull_calls import PullCallsMixin
from payments.daraja.retries import backoff_delay, call_with_retries
from payments.daraja.tokens import TokenStore
from payments.daraja.transport import (
    ExchangeHook,
    HttpAnswer,
    HttpRequest,
    shared_session,
)
from payments.daraja.transport import send as http_send
from payments.daraja.types import (
    DarajaConfig,
    StkPushResult,
    StkQueryResult,
    config_from_settings,
    initiator_config_from_settings,
)
from payments.phone import mask_phone

logger = logging.getLogger(__name__)

T = TypeVar("T")
__all__ = ["DarajaClient", "backoff_delay", "call_with_retries", "get_client"]

OAUTH_PATH = "/oauth/v1/generate?grant_type=client_credentials"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"


class DarajaClient(InitiatorCallsMixin, C2BCallsMixin, PullCallsMixin):
    """Talks to one Daraja app (consumer key) on one host.

    Thread-safe; cheap to build: the HTTP session and the token (in Django's
    cache) are shared by every client in the process. ``initiator`` (an
    ``InitiatorConfig``, or a function returning one, called at the first
    Reversal, B2C or Transaction Status) serves ``initiator_calls``;
    ``pull_calls`` adds Pull Transactions.
    """

    def __init__(
        self,
        config: DarajaConfig,
        *,
        cache: BaseCache | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
        initiator: InitiatorSource = None,
    ) -> None:
        self.config = config
        self._initiator_source = initiator
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
        self,
        operation: str,
        path: str,
        body: dict,
        on_exchange: ExchangeHook | None,
        *,
        secrets: tuple[str, ...] = (),
    ) -> HttpAnswer:
        token = self.access_token(on_exchange=on_exchange)
        answer = self._post(operation, path, body, token, on_exchange, secrets)
        if not answers.is_invalid_token(answer):
            return answer
        # Expired early, or replaced by a newer token: refresh once, retry
        # once (Daraja refused it unprocessed, so even a push is safe).
        logger.warning("Daraja refused the access token for %s; refreshing", operation)
        token = self._obtain_token(stale=token, on_exchange=on_exchange)
        answer = self._post(operation, path, body, token, on_exchange, secrets)
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
        secrets: tuple[str, ...] = (),
    ) -> HttpAnswer:
        request = HttpRequest(
            operation=operation,
            method="POST",
            url=self.config.base_url + path,
            timeout=self.config.timeout,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token, self.config.passkey, *secrets),
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

    # The initiator settings are read at the first call that needs them, so
    # a missing one never stops an STK push.
    return DarajaClient(
        config_from_settings(settings),
        initiator=partial(initiator_config_from_settings, settings),
    )
