"""People and money for the refund tests, written through the real
services (receipts through the ledger's writer)."""

import importlib

from django.contrib.auth.models import Group, Permission

from bookings.tests.factories import BookingFactory, UserFactory
from payments.models import MpesaReceipt
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt


def staff_in(group: str, *extra_codenames: str, username: str | None = None):
    """A staff user in ``group`` ("Finance", "Support"), with any extra
    payments permissions."""
    user = UserFactory(is_staff=True, **({"username": username} if username else {}))
    user.groups.add(_group(group))
    if extra_codenames:
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="payments", codename__in=extra_codenames
            )
        )
    return type(user).objects.get(pk=user.pk)


def cancelled_paid_booking_receipt(
    number: str = "TLK7REF001", *, amount: int = 3000, **booking_fields
) -> MpesaReceipt:
    """A booking paid by STK and then cancelled (``refund_due``), and its
    allocated receipt."""
    booking = BookingFactory(cancelled_paid=True, amount=amount, **booking_fields)
    payment = PaymentFactory(booking=booking, completed=True, amount=amount)
    return allocated_receipt(number, payment=payment)


def paid_booking_receipt(number: str = "TLK7REF002", *, amount: int = 3000):
    """A confirmed booking still paid for by its allocated receipt."""
    booking = BookingFactory(confirmed=True, amount=amount)
    payment = PaymentFactory(booking=booking, completed=True, amount=amount)
    return allocated_receipt(number, payment=payment)


def b2c_settings(settings) -> None:
    settings.MPESA_B2C_SHORT_CODE = "600000"
    settings.MPESA_B2C_INITIATOR_NAME = "testapi"
    settings.MPESA_B2C_INITIATOR_PASSWORD = "Safaricom999!*!"


def _group(name: str) -> Group:
    """The migration's group; a transactional test's flush empties the
    groups, so they are made again with the refund permissions migration
    0014 gives them (what these tests exercise)."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        refunds = importlib.import_module("payments.migrations.0014_refunds")
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="payments",
                codename__in=refunds.GROUPS[name],
            )
        )
    return group
