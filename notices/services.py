"""The notices' one writer: queue a notice per event once, send it once.

``notice_queue_*`` run in Celery after the money owner's transaction
committed (bookings and payments queue them by task name). Each inserts
its ``Notice`` rows by ``dedupe_key`` (a duplicate event inserts nothing)
and queues ``notice_send_task`` for the new ones. ``notice_send`` locks
the row and sends only what is not sent yet.
"""

import logging

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bookings.models import Booking
from core.after_commit import queue_after_commit
from core.logging_filters import redact
from core.phone import mask_phone
from notices import content
from notices.models import Notice
from notices.sms import send_sms
from payments.models import Payment, Refund

logger = logging.getLogger(__name__)

Kind = Notice.Kind
Channel = Notice.Channel
SEND_TASK = "notices.tasks.notice_send_task"


class NoticeSendFailed(Exception):
    """Sending failed; the notice is marked and the task retries."""


def notice_queue_booking_paid(*, booking_id: int) -> list[int]:
    """The client's confirmation (e-mail, SMS) and the advocate's e-mail
    for a booking just confirmed and paid; returns the new notices' ids."""
    booking = Booking.objects.select_related("advocate", "client").get(pk=booking_id)
    if booking.payment_status != Booking.PaymentStatus.PAID:
        logger.info("booking %s is not paid; no confirmation", booking_id)
        return []
    facts = content.booking_context(booking)
    to = content.client_recipients(booking)
    key = f"booking:{booking.pk}"
    created = _queue_client(Kind.BOOKING_PAID_CLIENT, to, facts, booking, key)
    created += _create(
        Kind.BOOKING_PAID_ADVOCATE,
        Channel.EMAIL,
        booking.advocate.email,
        facts,
        booking=booking,
        key=key,
    )
    return created


def notice_queue_payment_failed(*, payment_id: int) -> list[int]:
    """The client's "payment failed" notice, once per payment; none when
    the booking was paid meanwhile or no longer awaits payment."""
    payment = Payment.objects.select_related(
        "booking__advocate", "booking__client"
    ).get(pk=payment_id)
    booking = payment.booking
    if payment.status != Payment.Status.FAILED or (
        booking.status != Booking.Status.PENDING_PAYMENT
        or booking.payment_status != Booking.PaymentStatus.UNPAID
    ):
        logger.info("payment %s: no failure notice now", payment_id)
        return []
    facts = content.failure_context(payment)
    to = content.client_recipients(booking, payment=payment)
    key = f"payment:{payment.pk}"
    return _queue_client(Kind.PAYMENT_FAILED_CLIENT, to, facts, booking, key)


def notice_queue_refund_completed(*, refund_id: int) -> list[int]:
    """The client's "refund completed" notice, once per refund."""
    refund = Refund.objects.select_related(
        "receipt", "booking__client", "booking__advocate"
    ).get(pk=refund_id)
    if refund.status != Refund.Status.COMPLETED:
        return []
    facts = content.refund_context(refund)
    to = content.client_recipients(refund.booking)
    key = f"refund:{refund.pk}"
    return _queue_client(Kind.REFUND_COMPLETED_CLIENT, to, facts, refund.booking, key)


def notice_send(*, notice_id: int) -> bool:
    """Send the notice unless it was sent; True when this call sent it.

    Locks the row, so two workers or a retried task send once; marks it
    sent in the same transaction. Raises ``NoticeSendFailed`` after
    recording the attempt and the (masked) error.
    """
    error = ""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice_id)
        if notice.status == Notice.Status.SENT:
            logger.info("notice %s already sent", notice_id)
            return False
        notice.attempts += 1
        try:
            _deliver(notice)
        except Exception as exc:  # any backend failure: recorded, retried
            error = _error_text(exc)
            notice.status, notice.last_error = Notice.Status.FAILED, error
        else:
            notice.status, notice.sent_at = Notice.Status.SENT, timezone.now()
        notice.save(
            update_fields=["status", "attempts", "last_error", "sent_at", "updated_at"]
        )
    if error:
        logger.warning(
            "notice %s (%s to %s) failed: %s",
            notice_id,
            notice.channel,
            _masked(notice),
            error,
        )
        raise NoticeSendFailed(error)
    logger.info("notice %s sent to %s", notice_id, _masked(notice))
    return True


def _queue_client(
    kind: str, to: content.Recipients, facts: dict, booking: Booking, key: str
) -> list[int]:
    """The client's e-mail and SMS of one event."""
    created = _create(kind, Channel.EMAIL, to.email, facts, booking=booking, key=key)
    return created + _create(
        kind, Channel.SMS, to.phone, facts, booking=booking, key=key
    )


def _create(
    kind: str,
    channel: str,
    recipient: str,
    facts: dict,
    *,
    booking: Booking,
    key: str,
) -> list[int]:
    """Insert one notice (nothing if its key exists or it has no
    recipient) and queue its sending after commit."""
    if not recipient:
        logger.info("%s by %s: no recipient for %s", kind, channel, key)
        return []
    dedupe_key = f"{kind}:{channel}:{key}"
    subject, text, html = _render(kind, channel, facts)
    try:
        with transaction.atomic():
            notice, created = Notice.objects.get_or_create(
                dedupe_key=dedupe_key,
                defaults={
                    "kind": kind,
                    "channel": channel,
                    "recipient": recipient,
                    "subject": subject,
                    "body_text": text,
                    "body_html": html,
                    "booking": booking,
                },
            )
    except IntegrityError:  # a concurrent duplicate inserted it first
        return []
    if not created:
        logger.info("notice %s exists; duplicate event ignored", dedupe_key)
        return []
    queue_after_commit(SEND_TASK, notice.pk)
    return [notice.pk]


def _render(kind: str, channel: str, facts: dict) -> tuple[str, str, str]:
    if channel == Channel.SMS:
        return "", render_to_string(f"notices/{kind}.sms.txt", facts).strip(), ""
    subject = render_to_string(f"notices/{kind}.subject.txt", facts)
    return (
        " ".join(subject.split())[:200],
        render_to_string(f"notices/{kind}.txt", facts).strip() + "\n",
        render_to_string(f"notices/{kind}.html", facts),
    )


def _deliver(notice: Notice) -> None:
    if notice.channel == Channel.SMS:
        send_sms(to=notice.recipient, message=notice.body_text)
        return
    message = EmailMultiAlternatives(
        subject=notice.subject, body=notice.body_text, to=[notice.recipient]
    )
    if notice.body_html:
        message.attach_alternative(notice.body_html, "text/html")
    message.send(fail_silently=False)


def _error_text(exc: Exception) -> str:
    """The error as stored and logged: phones and secrets masked."""
    return redact(f"{type(exc).__name__}: {exc}")[:500]


def _masked(notice: Notice) -> str:
    if notice.channel == Channel.SMS:
        return mask_phone(notice.recipient)
    return notice.recipient.split("@")[-1].join(["***@", ""])
