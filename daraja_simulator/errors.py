"""Daraja's gateway errors: ``{"requestId", "errorCode", "errorMessage"}``.

Handlers raise :class:`DarajaError`; the HTTP layer renders it with the
``requestId`` of the request being answered.
"""

from dataclasses import dataclass, field

INVALID_ACCESS_TOKEN = "404.001.03"  # noqa: S105 - an error code
INVALID_AUTH_HEADER = "404.001.04"
NOT_FOUND = "404.001.01"
METHOD_NOT_ALLOWED = "405.001"
BAD_REQUEST = "400.002.02"
INVALID_PAYLOAD = "400.002.05"
OAUTH_INVALID_AUTH = "400.008.01"
OAUTH_INVALID_GRANT = "400.008.02"
GENERIC_500 = "500.001.1001"
SPIKE_ARREST = "500.003.02"
INTERNAL_ERROR = "500.003.1001"

LOCK_SUBSCRIBER_MESSAGE = (
    "Unable to lock subscriber, a transaction is already in process for the "
    "current subscriber"
)
PROCESSING_MESSAGE = "The transaction is being processed"
NO_SUCH_TRANSACTION_MESSAGE = "This transaction does not exist"


@dataclass
class DarajaError(Exception):
    """One of Daraja's error answers.

    ``request_id`` overrides the generated ``requestId`` (the STK query's
    "being processed" answer echoes the CheckoutRequestID there).
    """

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None

    def body(self, request_id: str) -> dict[str, str]:
        """The JSON body Daraja sends for this error."""
        return {
            "requestId": self.request_id or request_id,
            "errorCode": self.code,
            "errorMessage": self.message,
        }


def bad_request(field_name: str) -> DarajaError:
    """``400.002.02 Bad Request - Invalid <field>``."""
    return DarajaError(400, BAD_REQUEST, f"Bad Request - Invalid {field_name}")


def invalid_token() -> DarajaError:
    """``404.001.03 Invalid Access Token``."""
    return DarajaError(404, INVALID_ACCESS_TOKEN, "Invalid Access Token")


def server_error(message: str, request_id: str | None = None) -> DarajaError:
    """``500.001.1001`` with one of its many messages."""
    return DarajaError(500, GENERIC_500, message, request_id=request_id)
