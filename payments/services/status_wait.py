"""The status endpoint's ``?wait=``: answer once the payment is final.

``move`` (the transition owners' one move) calls
``status_wakeup_after_commit`` when a payment reaches a final status; a
waiting request reads the payment again from the database on that wake-up
(its content is never trusted) or at its re-check interval, and answers
when the payment is final or its wait runs out (``core.wakeups``).
"""

from functools import partial

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from core.wakeups import wait_until_blocking, wakeup_send
from payments.models import Payment
from payments.services.status import payment_status_for_user

MAX_WAIT_SECONDS = 30


def status_topic(checkout_request_id: str) -> str:
    """The wake-up topic of one CheckoutRequestID's status."""
    return f"payment-status:{checkout_request_id}"


def status_wakeup_after_commit(payment: Payment) -> None:
    """Once the current transaction commits, wake the requests waiting on
    this payment's status, in every web process (nothing if it rolls back)."""
    if payment.checkout_request_id:
        topic = status_topic(payment.checkout_request_id)
        transaction.on_commit(partial(wakeup_send, topic))


def payment_status_wait(
    *, checkout_request_id: str, user: AbstractBaseUser, wait_seconds: int
) -> Payment:
    """The payment as soon as it is final, else as it is after
    ``wait_seconds``: the WSGI path, which holds its thread meanwhile (the
    ASGI service waits without one: ``payments.api.status_wait``).

    Raises ``PaymentNotFound`` as ``payment_status_for_user`` does.
    """

    def check() -> tuple[bool, Payment]:
        payment = payment_status_for_user(
            checkout_request_id=checkout_request_id, user=user
        )
        return not payment.is_open, payment

    return wait_until_blocking(
        status_topic(checkout_request_id), check, timeout=wait_seconds
    )
