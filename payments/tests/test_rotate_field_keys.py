"""``manage.py rotate_field_keys``: every encrypted value rewritten with the
first key, plaintext and indexes unchanged, events still append-only."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from accounts.models import ClientProfile
from bookings.tests.factories import UserFactory
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services.field_keys import encrypted_tables
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import paybill_receipt

pytestmark = pytest.mark.django_db
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
BODIES = [
    '{"Body":{"stkCallback":{"PhoneNumber":254708374149}}}',
    ' {"MSISDN": "2547 ***** 149",\r\n "FirstName": "Wanjirũ"}\n',
    "",
]


def _all_raw_values() -> list[str]:
    values = []
    with connection.cursor() as cursor:
        for table, columns in encrypted_tables().items():
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
            values += [v for row in cursor.fetchall() for v in row if v]
    return values


def _rotate() -> str:
    out = io.StringIO()
    call_command("rotate_field_keys", "--batch-size", "2", stdout=out)
    return out.getvalue()


@pytest.fixture
def old_rows(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    payment = PaymentFactory(paid_phone_number="254708374149")
    events = [
        PaymentEvent.objects.create(
            kind=PaymentEvent.Kind.CALLBACK,
            payment=payment,
            raw_body=body,
            request_body={"PhoneNumber": 254708374149},
        )
        for body in BODIES
    ]
    receipt = paybill_receipt(payer_phone="2547 ***** 149")
    ClientProfile.objects.create(user=UserFactory(), phone_number="254708374149")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    return payment, events, receipt


def test_rotation_rewrites_every_value_with_the_first_key(settings, old_rows):
    # given
    payment, events, receipt = old_rows
    indexes_before = Payment.objects.values_list(
        "phone_index", "paid_phone_index", "phone_masked_key"
    ).get(pk=payment.pk)
    # when
    output = _rotate()
    # then: nothing is left that the new key alone cannot read
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    new = Fernet(NEW_KEY)
    for value in _all_raw_values():
        new.decrypt(value.removeprefix("fernet:").encode())
    assert [PaymentEvent.objects.get(pk=e.pk).raw_body for e in events] == BODIES
    assert MpesaReceipt.objects.get(pk=receipt.pk).payer_phone == "2547 ***** 149"
    assert Payment.objects.get(pk=payment.pk).paid_phone_number == "254708374149"
    assert (
        Payment.objects.values_list(
            "phone_index", "paid_phone_index", "phone_masked_key"
        ).get(pk=payment.pk)
        == indexes_before
    )
    assert "payments_paymentevent: 4 rows re-encrypted" in output
    assert "accounts_clientprofile: 1 rows re-encrypted" in output


def test_a_second_rotation_rewrites_nothing(old_rows):
    # given
    _rotate()
    # when
    output = _rotate()
    # then
    assert "total: 0 rows re-encrypted" in output


def test_events_stay_append_only_after_a_rotation(old_rows):
    # given
    _payment, events, _receipt = old_rows
    _rotate()
    # when / then
    with pytest.raises(DatabaseError, match="append-only"):
        _edit_reason(events[0].pk)


def _edit_reason(event_id: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_paymentevent SET reason = 'edited' WHERE id = %s",
            [event_id],
        )
