"""Errors raised by the Daraja adapter.

Every failure of a Daraja call is one of these, so callers never see a
``requests`` exception, a ``KeyError`` from a payload or a raw status code:

- ``DarajaValidationError``: refused locally, nothing was sent.
- ``DarajaUnavailable``: Daraja could not be reached or asked us to slow
  down; the request was not processed and may be retried later.
- ``DarajaRejected``: Daraja answered with an ``errorCode``; retrying the
  same request will not help.
- ``DarajaAuthError``: credentials or token refused even after one refresh.
- ``DarajaOutcomeUnknown``: a request that prompts or moves money (STK
  push, Reversal, B2C) may have reached Daraja but we got no answer.
  Never resend blindly.
- ``CallbackParseError``: a callback body that is not an STK callback.
- ``DarajaMalformedResult``: a ResultURL / QueueTimeOutURL body that is not
  a Daraja ``Result``.
- ``DarajaConfigurationError`` (and ``DarajaCertificateError``): a missing
  initiator setting, or an unreadable or garbled M-Pesa certificate; both a
  ``DarajaValidationError`` (nothing was sent) and an
  ``ImproperlyConfigured`` (what to fix).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

# Daraja's "Unable to lock subscriber" message, shared with other meanings
# of 500.001.1001, so the message text decides (daraja.md section 2).
_LOCKED_SUBSCRIBER_TEXT = "unable to lock subscriber"
SUBSCRIBER_BUSY_CODE = "500.001.1001"


class DarajaError(Exception):
    """Base class of every error raised by ``payments.daraja``."""


class DarajaValidationError(DarajaError):
    """An input was refused before anything was sent to Daraja."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DarajaUnavailable(DarajaError):
    """Daraja was unreachable, failed (5xx), or throttled us (429, 500.003.x).

    The request was not processed. ``retry_after`` is the number of seconds
    Daraja asked us to wait (``Retry-After``), when it said so.
    """

    def __init__(
        self,
        message: str = "Daraja is unavailable",
        *,
        retry_after: float | None = None,
        error_code: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.error_code = error_code
        self.http_status = http_status


class DarajaRejected(DarajaError):
    """Daraja answered with an ``errorCode`` (or a 4xx without one).

    ``error_code`` is Daraja's code (e.g. ``400.002.02``) or ``http_<status>``
    when the answer carried none.
    """

    def __init__(
        self,
        error_code: str,
        error_message: str,
        *,
        http_status: int | None = None,
        raw: dict | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {error_message}")
        self.error_code = error_code
        self.error_message = error_message
        self.http_status = http_status
        self.raw = raw

    @property
    def is_subscriber_locked(self) -> bool:
        """True when the customer already has a prompt open (wait >= 1 min)."""
        return (
            self.error_code == SUBSCRIBER_BUSY_CODE
            and _LOCKED_SUBSCRIBER_TEXT in self.error_message.lower()
        )

    @property
    def is_duplicate_originator(self) -> bool:
        """True when Daraja says it has seen this OriginatorConversationID:
        the earlier request's outcome stands (ask Transaction Status)."""
        return "duplicate" in self.error_message.lower()


class DarajaAuthError(DarajaRejected):
    """Credentials or access token refused, even after one token refresh."""


class InvalidAccessToken(DarajaAuthError):
    """Daraja refused the bearer token (``404.001.03``, ``400.003.01``, 401).

    The client refreshes the token and retries once; this escapes only when
    the fresh token is refused too.
    """


class DarajaOutcomeUnknown(DarajaError):
    """An STK push may have reached Daraja, but no answer came back.

    Raised on a read timeout, a connection dropped after the request was
    sent, or a gateway error (500/502/504 without a Daraja ``errorCode``).
    The customer may have received a prompt, and no ``CheckoutRequestID`` is
    known, so the push must not be resent until the attempt is resolved
    (callback, or wait out the prompt's lifetime).
    """

    def __init__(
        self,
        message: str = "STK push outcome unknown",
        *,
        operation: str = "stk_push",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.http_status = http_status


class CallbackParseError(DarajaError):
    """A callback body that is not shaped like ``Body.stkCallback``."""


class DarajaMalformedResult(DarajaError):
    """A body posted to the ResultURL or QueueTimeOutURL that is not one.

    Not JSON, no ``Result`` object, or fields of the wrong type. The caller
    has stored the raw body already; there is nothing to apply.
    """


class DarajaConfigurationError(DarajaValidationError, ImproperlyConfigured):
    """A setting the call needs is missing or wrong; nothing was sent.

    Both a ``DarajaValidationError`` (a caller catching ``DarajaError``
    knows no money moved) and an ``ImproperlyConfigured`` (what to fix).
    """


class DarajaCertificateError(DarajaConfigurationError):
    """The certificate for the SecurityCredential is unreadable or garbled.

    Raised before anything is sent. ``field`` is ``certificate``.
    """

    def __init__(self, message: str) -> None:
        super().__init__("certificate", message)
