"""factory-boy factories for payments; defaults are valid objects."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from bookings.tests.factories import BookingFactory
from payments.models import Payment, PaymentEvent

Status = Payment.Status


class PaymentFactory(DjangoModelFactory[Payment]):
    """A pending payment for a fresh booking, as after Daraja accepted it."""

    class Meta:
        model = Payment

    booking = factory.SubFactory(BookingFactory)
    amount = factory.LazyAttribute(lambda o: o.booking.amount)
    phone_number = "254708374149"
    initiated_by = factory.LazyAttribute(lambda o: o.booking.client)
    status = Status.PENDING
    merchant_request_id = factory.Sequence(lambda n: f"29115-34620561-{n}")
    checkout_request_id = factory.Sequence(lambda n: f"ws_CO_FACTORY{n:08d}")
    accepted_at = factory.LazyFunction(timezone.now)

    class Params:
        initiated = factory.Trait(
            status=Status.INITIATED,
            checkout_request_id=None,
            merchant_request_id="",
            accepted_at=None,
        )
        completed = factory.Trait(
            status=Status.COMPLETED,
            result_code="0",
            mpesa_receipt_number=factory.Sequence(lambda n: f"NLJ{n:07d}"),
            paid_amount=factory.LazyAttribute(lambda o: o.amount),
        )
        failed = factory.Trait(
            status=Status.FAILED,
            result_code="1032",
            result_desc="Request cancelled by user",
            failure_reason="You cancelled the payment on your phone.",
        )
        expired = factory.Trait(status=Status.EXPIRED)
        needs_review = factory.Trait(status=Status.NEEDS_REVIEW)


class PaymentEventFactory(DjangoModelFactory[PaymentEvent]):
    class Meta:
        model = PaymentEvent

    payment = factory.SubFactory(PaymentFactory)
    kind = PaymentEvent.Kind.NOTE
    reason = "test note"
