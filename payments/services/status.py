"""The status endpoint's read, with an occasional nudge to Daraja."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.utils import timezone

from payments.models import Payment
from payments.selectors import payment_get_by_checkout_id
from payments.services.scheduling import schedule_payment_query

# A poll may trigger at most one STK query per payment per this interval.
STATUS_QUERY_INTERVAL_SECONDS = 30


def payment_status_for_user(
    *, checkout_request_id: str, user: AbstractBaseUser
) -> Payment:
    """The payment as the database knows it.

    Side effect: when it is still pending well past the usual callback time,
    queue one STK query (at most once per interval per payment, whoever
    polls), never a query per poll and never inline.
    """
    payment = payment_get_by_checkout_id(
        checkout_request_id=checkout_request_id, user=user
    )
    if _overdue(payment) and cache.add(
        f"payments:status-query:{payment.pk}", 1, timeout=STATUS_QUERY_INTERVAL_SECONDS
    ):
        schedule_payment_query(payment_id=payment.pk, countdown=0)
    return payment


def _overdue(payment: Payment) -> bool:
    if payment.status != Payment.Status.PENDING or payment.accepted_at is None:
        return False
    wait = timedelta(seconds=settings.MPESA_QUERY_AFTER_SECONDS)
    return timezone.now() - payment.accepted_at > wait
