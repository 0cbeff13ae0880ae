"""Registering our C2B URLs on the Paybill: ``c2b_register_urls``.

``manage.py mpesa_register_c2b_urls`` is its interface. The URLs come from
``MPESA_C2B_CONFIRMATION_URL`` and ``MPESA_C2B_VALIDATION_URL`` and are
checked like the STK callback URL (``payments.callback_url``) before
anything is sent; the exchange is stored as a ``daraja_exchange`` event.
"""

import logging

from django.conf import settings

from payments.callback_url import callback_url_problems
from payments.daraja.exceptions import DarajaRejected
from payments.daraja.types import C2BRegisterResult
from payments.exceptions import PaymentError
from payments.services import daraja_client
from payments.services.events import exchange_recorder

logger = logging.getLogger(__name__)

# What to do about Daraja's two common refusals (../shared/daraja.md §10).
EXPLANATIONS = {
    "500.003.1001": (
        "The URLs are already registered on this shortcode. In production "
        "registration is one-time: change them through the Daraja portal's "
        "self-service URL management (or ask Safaricom by email). In the "
        "sandbox, registering again replaces them unless the shortcode "
        "refuses; then use another test shortcode."
    ),
    "401.003.01": (
        "No API product match: the Daraja app is subscribed to the other C2B "
        "API version. Run the command again with the other --api-version "
        "(v1 sends hashed MSISDNs, v2 masked ones)."
    ),
}


class C2BUrlsUnusable(PaymentError):
    status_code = 503
    code = "c2b_urls_unusable"
    default_message = "The C2B URLs cannot receive Safaricom's requests."


def c2b_url_problems() -> list[str]:
    """What is wrong with the two C2B URL settings; empty if both usable."""
    return [
        problem
        for setting in ("MPESA_C2B_CONFIRMATION_URL", "MPESA_C2B_VALIDATION_URL")
        for problem in callback_url_problems(
            url=getattr(settings, setting),
            secret=settings.MPESA_C2B_SECRET,
            environment=settings.MPESA_ENVIRONMENT,
            setting=setting,
            secret_setting="MPESA_C2B_SECRET",  # noqa: S106 - a name
        )
    ]


def c2b_register_urls(*, api_version: str, response_type: str) -> C2BRegisterResult:
    """Register the confirmation and validation URLs on
    ``MPESA_C2B_SHORT_CODE`` through ``/mpesa/c2b/<api_version>/registerurl``.

    Side effects: one request to Daraja (plus OAuth), each stored as an
    event. Raises ``C2BUrlsUnusable`` (nothing sent) naming the settings'
    problems, and the client's ``DarajaError``s (see ``explanation``).
    """
    problems = c2b_url_problems()
    if problems:
        raise C2BUrlsUnusable("; ".join(problems))
    return daraja_client.daraja().c2b_register_urls(
        short_code=settings.MPESA_C2B_SHORT_CODE,
        response_type=response_type,
        confirmation_url=settings.MPESA_C2B_CONFIRMATION_URL,
        validation_url=settings.MPESA_C2B_VALIDATION_URL,
        api_version=api_version,
        on_exchange=exchange_recorder(None),
    )


def explanation(error: DarajaRejected) -> str:
    """What a refused registration means and what to do, or ''."""
    return EXPLANATIONS.get(error.error_code, "")
