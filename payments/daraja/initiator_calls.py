"""Reversal, B2C and Transaction Status, as a part of ``DarajaClient``.

All three act as the organisation's initiator with a SecurityCredential
(``security.py``), get an acknowledgement (``AsyncAccepted``) at once and
their outcome later at the ResultURL (``results.parse_async_result``).

MONEY RULE: Reversal and B2C are never retried. A failure before anything
was sent (validation, a missing setting or certificate, connection refused,
DNS) raises ``DarajaValidationError`` or ``DarajaUnavailable``: no money
moved. A read timeout or a connection dropped after sending raises
``DarajaOutcomeUnknown``: money may have moved; only M-Pesa's result or a
Transaction Status answer can tell. Transaction Status is idempotent and
retried like the STK query. The one resend is after Daraja refused the
access token (refused unprocessed, as for the STK push).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from payments.daraja import answers
from payments.daraja import initiator_bodies as bodies
from payments.daraja.exceptions import (
    DarajaConfigurationError,
    DarajaError,
    DarajaValidationError,
)
from payments.daraja.security import load_certificate, security_credential
from payments.daraja.transport import ExchangeHook, HttpAnswer
from payments.daraja.types import AsyncAccepted, InitiatorConfig
from payments.daraja.validation import validate_amount
from payments.phone import mask_phone

logger = logging.getLogger(__name__)

REVERSAL_PATH = "/mpesa/reversal/v1/request"
B2C_PATH = "/mpesa/b2c/v3/paymentrequest"
TRANSACTION_STATUS_PATH = "/mpesa/transactionstatus/v1/query"

InitiatorSource = InitiatorConfig | Callable[[], InitiatorConfig] | None


class InitiatorCallsMixin:
    """``reversal``, ``b2c_payment``, ``transaction_status`` on the client."""

    _initiator_source: InitiatorSource
    _call_api: Callable[..., HttpAnswer]
    _retrying: Callable[..., object]

    def reversal(
        self,
        *,
        transaction_id: str,
        amount: int,
        originator_conversation_id: str,
        remarks: str,
        occasion: str = "",
        receiver_party: str | None = None,
        on_exchange: ExchangeHook | None = None,
    ) -> AsyncAccepted:
        """Ask M-Pesa to reverse receipt ``transaction_id`` (whole amount).

        ``receiver_party`` is the shortcode that received the money
        (default: the initiator's ``party_a``). Never retried.

        Raises:
            DarajaValidationError (incl. DarajaConfigurationError): refused
                before sending; nothing moved.
            DarajaRejected: Daraja refused it (e.g. 2001 wrong credential).
            DarajaUnavailable: not sent, or refused unprocessed.
            DarajaOutcomeUnknown: sent, no usable answer: do not resend.
        """
        initiator = self.initiator_config()
        receipt = bodies.receipt(transaction_id)
        checked = {
            "transaction_id": receipt,
            "amount": validate_amount(amount),
            "originator_conversation_id": bodies.conversation_id(
                originator_conversation_id, "originator_conversation_id"
            ),
            "remarks_text": bodies.remarks(remarks),
            "occasion_text": bodies.occasion(occasion),
            "receiver_party": receiver_party or initiator.party_a,
        }
        password = initiator.password
        credential = self._credential(initiator, password)
        body = bodies.reversal_body(initiator, credential=credential, **checked)
        accepted = self._submit_once(
            "reversal", REVERSAL_PATH, body, (password, credential), on_exchange
        )
        logger.info(
            "Reversal of %s for KES %s accepted: %s",
            receipt,
            checked["amount"],
            accepted.conversation_id,
        )
        return accepted

    def b2c_payment(
        self,
        *,
        originator_conversation_id: str,
        phone_number: str | int,
        amount: int,
        remarks: str,
        occasion: str = "",
        command_id: str = "BusinessPayment",
        on_exchange: ExchangeHook | None = None,
    ) -> AsyncAccepted:
        """Pay ``amount`` KES (10..250,000) to ``phone_number`` by B2C.

        From the B2C shortcode, as the B2C initiator. Never retried.

        Raises:
            DarajaValidationError (incl. DarajaConfigurationError: B2C not
                configured): refused before sending; nothing moved.
            DarajaRejected, DarajaUnavailable, DarajaOutcomeUnknown: as
                ``reversal``.
        """
        initiator = self.initiator_config()
        if not initiator.b2c_configured:
            raise DarajaConfigurationError(
                "b2c",
                "B2C needs MPESA_B2C_SHORT_CODE, MPESA_B2C_INITIATOR_NAME and "
                "MPESA_B2C_INITIATOR_PASSWORD.",
            )
        if command_id not in bodies.B2C_COMMANDS:
            raise DarajaValidationError(
                "command_id", "Give BusinessPayment, SalaryPayment or PromotionPayment."
            )
        checked = {
            "originator_conversation_id": bodies.conversation_id(
                originator_conversation_id, "originator_conversation_id"
            ),
            "phone": bodies.msisdn(phone_number),
            "amount": bodies.b2c_amount(amount),
            "command_id": command_id,
            "remarks_text": bodies.remarks(remarks),
            "occasion_text": bodies.occasion(occasion),
        }
        password = initiator.b2c_password
        credential = self._credential(initiator, password)
        body = bodies.b2c_body(initiator, credential=credential, **checked)
        accepted = self._submit_once(
            "b2c_payment", B2C_PATH, body, (password, credential), on_exchange
        )
        logger.info(
            "B2C of KES %s to %s accepted: %s",
            checked["amount"],
            mask_phone(checked["phone"]),
            accepted.conversation_id,
        )
        return accepted

    def transaction_status(
        self,
        *,
        transaction_id: str | None = None,
        original_conversation_id: str | None = None,
        originator_conversation_id: str,
        remarks: str = "Status check",
        on_exchange: ExchangeHook | None = None,
    ) -> AsyncAccepted:
        """Ask M-Pesa what became of a receipt, or of an earlier request
        (its ``OriginalConversationID``); the answer comes to the ResultURL.

        Idempotent: retried with backoff while Daraja is unavailable.

        Raises:
            DarajaValidationError: neither id given, or an input refused.
            DarajaRejected, DarajaAuthError, DarajaUnavailable.
        """
        if not transaction_id and not original_conversation_id:
            raise DarajaValidationError(
                "transaction_id", "Give a receipt or an OriginalConversationID."
            )
        initiator = self.initiator_config()
        checked = {
            "transaction_id": bodies.receipt(transaction_id)
            if transaction_id
            else None,
            "original_conversation_id": bodies.conversation_id(
                original_conversation_id, "original_conversation_id"
            )
            if original_conversation_id
            else None,
            "originator_conversation_id": bodies.conversation_id(
                originator_conversation_id, "originator_conversation_id"
            ),
            "remarks_text": bodies.remarks(remarks),
        }
        password = initiator.password
        credential = self._credential(initiator, password)
        body = bodies.transaction_status_body(
            initiator, credential=credential, **checked
        )
        send = partial(
            self._submit_once,
            "transaction_status",
            TRANSACTION_STATUS_PATH,
            body,
            (password, credential),
            on_exchange,
        )
        accepted = self._retrying("transaction_status", send)
        logger.info(
            "Transaction Status of %s accepted: %s",
            checked["transaction_id"] or checked["original_conversation_id"],
            accepted.conversation_id,
        )
        return accepted

    def initiator_config(self) -> InitiatorConfig:
        """The initiator configuration (read from settings on first use).

        Raises:
            DarajaConfigurationError: missing settings, or none given.
        """
        source = self._initiator_source
        if callable(source):
            source = self._initiator_source = source()
        if source is None:
            raise DarajaConfigurationError(
                "initiator", "No Daraja initiator configuration was given."
            )
        return source

    # --- internals -----------------------------------------------------------

    @staticmethod
    def _credential(initiator: InitiatorConfig, password: str) -> str:
        # A fresh credential per call: PKCS#1 v1.5 padding is random.
        certificate = load_certificate(initiator.certificate_path)
        return security_credential(password=password, certificate=certificate)

    def _submit_once(
        self,
        operation: str,
        path: str,
        body: dict,
        secrets: tuple[str, ...],
        on_exchange: ExchangeHook | None,
    ) -> AsyncAccepted:
        try:
            answer = self._call_api(operation, path, body, on_exchange, secrets=secrets)
            answers.raise_for_answer(operation, answer)
            return answers.accepted_result(operation, answer)
        except DarajaError as exc:
            logger.warning(
                "Daraja %s %s failed: %s",
                operation,
                body["OriginatorConversationID"],
                exc,
            )
            raise
