"""Paybill (C2B): registered URLs per shortcode, payloads and the ledger.

Daraja facts (docs/simulator.md, "Paybill (C2B)"): a shortcode registers a
``ConfirmationURL``, a ``ValidationURL`` and a ``ResponseType`` (Completed
or Cancelled, what applies when validation does not answer) through
``/mpesa/c2b/v1/registerurl`` or ``/v2/registerurl``. The version decides
the ``MSISDN`` in the payloads: v1 a SHA-256 hex of the number, v2 masked
like ``2547 ***** 126``.
"""

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import errors
from .errors import DarajaError
from .identifiers import mask_phone
from .masking import mask_url
from .records import iso
from .validation import as_digits, check_msisdn, check_url

RESPONSE_TYPES = ("Completed", "Cancelled")
ALREADY_REGISTERED = "500.003.1001"
ALREADY_REGISTERED_MESSAGE = "URLs are already registered"
REGISTER_DESCRIPTION = "Success"
REJECTION_CODES = frozenset(
    {"C2B00011", "C2B00012", "C2B00013", "C2B00014", "C2B00015", "C2B00016"}
)
MAX_ACCOUNT_CHARS = 20
COMPLETED = "completed"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Registration:
    """The URLs one shortcode registered, and through which API version."""

    short_code: str
    version: str
    response_type: str
    confirmation_url: str
    validation_url: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the control API (URL secrets masked)."""
        return {
            "short_code": self.short_code,
            "version": self.version,
            "response_type": self.response_type,
            "confirmation_url": mask_url(self.confirmation_url),
            "validation_url": mask_url(self.validation_url),
        }


@dataclass(slots=True)
class PaybillPayment:
    """One paybill payment (or double notification) and what became of it."""

    trans_id: str
    short_code: str
    phone: str
    amount: int
    account: str
    created_at: datetime
    source: str = "paybill"
    status: str = "pending"
    result_code: str | None = None
    validation: str = "off"
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A ledger entry, with the same keys as an STK push's where shared."""
        completed = self.status == COMPLETED
        return {
            "channel": "paybill",
            "source": self.source,
            "CheckoutRequestID": None,
            "receipt": self.trans_id,
            "short_code": self.short_code,
            "phone": self.phone,
            "phone_masked": mask_phone(self.phone),
            "amount": self.amount,
            "paid_amount": self.amount if completed else None,
            "account_reference": self.account,
            "status": self.status,
            "result_code": self.result_code,
            "validation": self.validation,
            "faults": [],
            "created_at": iso(self.created_at),
            "notifications": [dict(n) for n in self.notifications],
        }


def check_registration(
    body: dict[str, Any], version: str, *, forbid_keywords: bool
) -> Registration:
    """A register-URL body that passed Daraja's checks; else DarajaError."""
    short_code = as_digits(body.get("ShortCode"))
    if not short_code:
        raise errors.bad_request("ShortCode")
    response_type = body.get("ResponseType")
    if response_type not in RESPONSE_TYPES:
        raise errors.bad_request("ResponseType")
    urls = {
        name: check_url(body.get(name), name, forbid_keywords=forbid_keywords)
        for name in ("ConfirmationURL", "ValidationURL")
    }
    return Registration(
        short_code=short_code,
        version=version,
        response_type=response_type,
        confirmation_url=urls["ConfirmationURL"],
        validation_url=urls["ValidationURL"],
    )


def check_pay(data: dict[str, Any], default_short_code: str) -> dict[str, Any]:
    """A ``/simulator/c2b/pay`` body, checked; ValueError says what is wrong."""
    try:
        phone = check_msisdn(data.get("phone"), "phone")
    except DarajaError:
        raise ValueError("phone must be a 12-digit 2547…/2541… number") from None
    amount = as_digits(data.get("amount"))
    if amount is None or not 1 <= int(amount) <= 250_000:
        raise ValueError("amount must be a whole number of shillings, 1..250000")
    account = data.get("account", "")
    if not isinstance(account, str) or len(account) > MAX_ACCOUNT_CHARS:
        raise ValueError(f"account must be text of at most {MAX_ACCOUNT_CHARS}")
    short_code = as_digits(data.get("short_code", default_short_code))
    if not short_code:
        raise ValueError("short_code must be digits")
    return {
        "phone": phone,
        "amount": int(amount),
        "account": account,
        "short_code": short_code,
    }


def msisdn_for(phone: str, version: str) -> str:
    """The ``MSISDN`` Daraja sends: v1 SHA-256 hex, v2 ``2547 ***** 126``."""
    if version == "v1":
        return hashlib.sha256(phone.encode()).hexdigest()
    return f"{phone[:4]} ***** {phone[-3:]}"


def c2b_payload(
    payment: PaybillPayment,
    registration: Registration,
    when: datetime,
    *,
    balance: str = "",
    third_party_id: str = "",
) -> dict[str, Any]:
    """The validation/confirmation body Daraja POSTs for ``payment``."""
    return {
        "TransactionType": "Pay Bill",
        "TransID": payment.trans_id,
        "TransTime": when.strftime("%Y%m%d%H%M%S"),
        "TransAmount": f"{payment.amount:.2f}",
        "BusinessShortCode": payment.short_code,
        "BillRefNumber": payment.account,
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": third_party_id,
        "MSISDN": msisdn_for(payment.phone, registration.version),
        "FirstName": "John",
        "MiddleName": "",
        "LastName": "Doe",
    }


class C2BBook:
    """Registrations, validation switches, balances and paybill payments."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registrations: dict[str, Registration] = {}
        self._validation: set[str] = set()
        self._balances: dict[str, int] = {}
        self._payments: list[PaybillPayment] = []
        self._notices: list[PaybillPayment] = []

    def register(self, registration: Registration, *, once: bool) -> None:
        """Store ``registration``; with ``once``, a second one is refused."""
        with self._lock:
            if once and registration.short_code in self._registrations:
                raise DarajaError(500, ALREADY_REGISTERED, ALREADY_REGISTERED_MESSAGE)
            self._registrations[registration.short_code] = registration

    def registration(self, short_code: str) -> Registration | None:
        """What ``short_code`` registered, if anything."""
        with self._lock:
            return self._registrations.get(short_code)

    def set_validation(self, short_code: str, enabled: bool) -> None:
        """Switch external validation on or off for ``short_code``."""
        with self._lock:
            if enabled:
                self._validation.add(short_code)
            else:
                self._validation.discard(short_code)

    def validates(self, short_code: str) -> bool:
        """Whether payments to ``short_code`` go through validation."""
        with self._lock:
            return short_code in self._validation

    def add(self, payment: PaybillPayment) -> None:
        """Record a payment (still pending)."""
        with self._lock:
            self._payments.append(payment)

    def add_notice(self, payment: PaybillPayment) -> None:
        """Record a double notification (an STK payment, not new money)."""
        with self._lock:
            self._notices.append(payment)

    def complete(self, payment: PaybillPayment) -> str:
        """Mark ``payment`` completed; return the new balance as ``"0.00"``."""
        with self._lock:
            payment.status = COMPLETED
            balance = self._balances.get(payment.short_code, 0) + payment.amount
            self._balances[payment.short_code] = balance
            return f"{balance:.2f}"

    def payments(self) -> list[PaybillPayment]:
        """Every paybill payment, oldest first."""
        with self._lock:
            return list(self._payments)

    def listing(self) -> dict[str, Any]:
        """``GET /simulator/c2b``: registrations, switches, payments."""
        with self._lock:
            return {
                "registrations": [r.as_dict() for r in self._registrations.values()],
                "validation_enabled": sorted(self._validation),
                "payments": [p.as_dict() for p in self._payments],
                "double_notifications": [p.as_dict() for p in self._notices],
            }

    def clear(self, *, registrations: bool = False) -> None:
        """Forget payments and balances (and registrations if asked)."""
        with self._lock:
            self._balances.clear()
            self._payments.clear()
            self._notices.clear()
            if registrations:
                self._registrations.clear()
                self._validation.clear()
