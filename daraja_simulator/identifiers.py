"""Clock, identifiers and masking, shaped like Safaricom's.

All of Daraja's own timestamps (CheckoutRequestID, TransactionDate) are
Kenyan wall-clock time, so the simulator builds them in Africa/Nairobi
whatever the host's time zone.
"""

import random
import string
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

NAIROBI = ZoneInfo("Africa/Nairobi")
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_RECEIPT_ALPHABET = string.ascii_uppercase + string.digits


def nairobi_now() -> datetime:
    """The current time as an aware datetime in Africa/Nairobi."""
    return datetime.now(NAIROBI)


def mask_phone(phone: str) -> str:
    """``254708374149`` -> ``2547******149``, for logs (house format)."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:4] + "******" + phone[-3:]


class IdentifierFactory:
    """Makes tokens, request ids and receipts from one seeded generator.

    Thread-safe; receipts and CheckoutRequestIDs never repeat within one
    factory.
    """

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - a fake, not crypto
        self._lock = threading.Lock()
        self._counter = 0
        self._receipts: set[str] = set()
        self._checkouts: set[str] = set()

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def access_token(self) -> str:
        """An opaque 28-character token like ``c9SQxWWhmdVRlyh0zh8gZDTkubVF``."""
        with self._lock:
            return "".join(self._rng.choices(_TOKEN_ALPHABET, k=28))

    def request_id(self) -> str:
        """A gateway ``requestId`` like ``11259-2330641-1``."""
        with self._lock:
            return f"{self._rng.randint(1000, 99999)}-{self._next() + 2330000}-1"

    def merchant_request_id(self) -> str:
        """A MerchantRequestID like ``2654-4b64-97ff-b827b542881d3130``."""
        with self._lock:
            parts = [f"{self._rng.getrandbits(16):04x}" for _ in range(3)]
            tail = f"{self._rng.getrandbits(48):012x}{self._next() % 10000:04d}"
            return "-".join([*parts, tail])

    def checkout_request_id(self, phone: str, when: datetime) -> str:
        """``ws_CO_`` + DDMMYYYYHHMMSS + 3-digit ms + last 9 of the MSISDN."""
        with self._lock:
            millis = when.microsecond // 1000
            for offset in range(1000):
                stamp = (
                    when.strftime("%d%m%Y%H%M%S") + f"{(millis + offset) % 1000:03d}"
                )
                candidate = f"ws_CO_{stamp}{phone[-9:]}"
                if candidate not in self._checkouts:
                    self._checkouts.add(candidate)
                    return candidate
            raise RuntimeError("more than 1000 pushes to one phone in a second")

    def receipt(self) -> str:
        """A unique 10-character M-Pesa receipt like ``NLJ7RT61SV``."""
        with self._lock:
            while True:
                letters = "".join(self._rng.choices(string.ascii_uppercase, k=3))
                rest = "".join(self._rng.choices(_RECEIPT_ALPHABET, k=7))
                receipt = letters + rest
                if receipt not in self._receipts:
                    self._receipts.add(receipt)
                    return receipt

    def conversation_id(self, when: datetime) -> str:
        """A ConversationID like ``AG_20261202_2010325b8ab4f8ab8d71``."""
        with self._lock:
            tail = f"{self._rng.getrandbits(64):016x}{self._next() % 10000:04d}"
            return f"AG_{when.strftime('%Y%m%d')}_{tail}"

    def originator_conversation_id(self) -> str:
        """An OriginatorConversationID for a request that sent none."""
        with self._lock:
            return f"{self._rng.randint(10000, 99999)}-{self._next() + 70000000}-1"

    def uniform(self) -> float:
        """A number in [0, 1) for probabilistic faults."""
        with self._lock:
            return self._rng.random()

    def reseed(self, seed: int | None) -> None:
        """Restart the random sequence (ids already issued stay taken)."""
        with self._lock:
            self._rng.seed(seed)
