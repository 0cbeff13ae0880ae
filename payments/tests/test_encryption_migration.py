"""Migrations 0016-0018 (and accounts 0002): rows stored in plaintext are
encrypted, their indexes filled, and events stay append-only."""

import contextlib
import hashlib

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from core import crypto
from payments.event_guard import events_reencryptable

BEFORE = [
    ("payments", "0015_receipt_sighting_daraja_result"),
    ("accounts", "0001_client_profile"),
]
PHONE = "254708374149"
RAW = '{"Body": {"stkCallback": {"PhoneNumber": 254708374149}}}  \r\n'


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _execute(sql: str, params: list, *, reencrypt: bool = False) -> None:
    """One statement in its own transaction, under the rewrite's exception
    to the append-only rule when ``reencrypt``."""
    guard = events_reencryptable if reencrypt else lambda _c: contextlib.nullcontext()
    with transaction.atomic(), guard(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _raw(table: str, column: str, pk: int):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _plain_rows(old):
    """One of each kind of row, written before encryption existed."""
    from bookings.tests.factories import BookingFactory

    booking = BookingFactory()
    Payment = old.get_model("payments", "Payment")
    payment = Payment.objects.create(
        booking_id=booking.pk,
        amount=booking.amount,
        phone_number=PHONE,
        paid_phone_number="0712345678",
        status="completed",
    )
    Receipt = old.get_model("payments", "MpesaReceipt")
    hashed = Receipt.objects.create(
        receipt_number="TLK3AB12CD",
        channel="paybill",
        amount=3000,
        payer_phone=hashlib.sha256(PHONE.encode()).hexdigest(),
        allocation="unallocated",
        unallocated_reason="unknown_account",
    )
    masked = Receipt.objects.create(
        receipt_number="TLK3AB12CE",
        channel="paybill",
        amount=3000,
        payer_phone="2547 ***** 149",
        allocation="unallocated",
        unallocated_reason="unknown_account",
    )
    event = old.get_model("payments", "PaymentEvent").objects.create(
        kind="callback", request_body={"PhoneNumber": PHONE}, raw_body=RAW
    )
    check = old.get_model("payments", "TransactionStatusCheck").objects.create(
        transaction_id="TLK3AB12CD",
        state="answered",
        answer={"DebitPartyName": f"{PHONE} - JOHN DOE"},
    )
    User = old.get_model("auth", "User")
    profile = old.get_model("accounts", "ClientProfile").objects.create(
        user=User.objects.create(username="before-encryption"),
        phone_number=PHONE,
    )
    return payment.pk, hashed.pk, masked.pk, event.pk, profile.pk, check.pk


@pytest.mark.django_db(transaction=True)
def test_rows_stored_in_plaintext_are_encrypted_and_indexed():
    # given
    old = _migrate(BEFORE)
    try:
        payment, hashed, masked, event, profile, check = _plain_rows(old)
        assert _raw("payments_paymentevent", "raw_body", event) == RAW
        # when
        _migrate(_latest())
        # then: no plaintext number is left in any column
        from accounts.models import ClientProfile
        from payments.models import (
            MpesaReceipt,
            Payment,
            PaymentEvent,
            TransactionStatusCheck,
        )

        for table, column, pk in [
            ("payments_payment", "phone_number", payment),
            ("payments_payment", "paid_phone_number", payment),
            ("payments_mpesareceipt", "payer_phone", hashed),
            ("payments_mpesareceipt", "payer_phone", masked),
            ("payments_paymentevent", "raw_body", event),
            ("payments_paymentevent", "request_body", event),
            ("accounts_clientprofile", "phone_number", profile),
            ("payments_transactionstatuscheck", "answer", check),
        ]:
            assert _raw(table, column, pk).startswith("fernet:"), (table, column)
        stored = Payment.objects.get(pk=payment)
        assert stored.phone_number == PHONE
        assert stored.phone_index == crypto.phone_index(PHONE)
        assert stored.paid_phone_index == crypto.phone_index("254712345678")
        assert stored.phone_masked_key == "2547*149"
        indexes = crypto.phone_search_indexes(PHONE)
        assert MpesaReceipt.objects.get(pk=hashed).payer_phone_index in indexes
        assert MpesaReceipt.objects.get(pk=masked).payer_phone_masked_key == "2547*149"
        assert PaymentEvent.objects.get(pk=event).raw_body == RAW
        assert PaymentEvent.objects.get(pk=event).request_body == {"PhoneNumber": PHONE}
        assert ClientProfile.objects.get(pk=profile).phone_number == PHONE
        assert TransactionStatusCheck.objects.get(pk=check).answer == {
            "DebitPartyName": f"{PHONE} - JOHN DOE"
        }
        # and: an ordinary UPDATE of an event is still refused
        edit = "UPDATE payments_paymentevent SET reason = 'edited' WHERE id = %s"
        with pytest.raises(DatabaseError, match="append-only"):
            _execute(edit, [event])
        forge = "UPDATE payments_paymentevent SET raw_body = 'fernet:x' WHERE id = %s"
        with pytest.raises(DatabaseError, match="append-only"):
            _execute(forge, [event])
    finally:
        _migrate(_latest())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_lets_the_rewrite_change_ciphertext_only():
    from payments.models import PaymentEvent

    event = PaymentEvent.objects.create(kind="callback", raw_body=RAW)
    sealed = crypto.encrypt_text(RAW)
    table = "payments_paymentevent"
    # when: under the rewrite's setting, another column changes: refused
    with pytest.raises(DatabaseError, match="append-only"):
        _execute(
            f"UPDATE {table} SET reason = 'x', raw_body = %s WHERE id = %s",  # noqa: S608
            [sealed, event.pk],
            reencrypt=True,
        )
    # when: plaintext is written under it: refused
    with pytest.raises(DatabaseError, match="append-only"):
        _execute(
            f"UPDATE {table} SET raw_body = 'plain' WHERE id = %s",  # noqa: S608
            [event.pk],
            reencrypt=True,
        )
    # when: DELETE, even under it: refused
    with pytest.raises(DatabaseError, match="append-only"):
        _execute(f"DELETE FROM {table} WHERE id = %s", [event.pk], reencrypt=True)  # noqa: S608
    # then: ciphertext alone may change
    _execute(
        f"UPDATE {table} SET raw_body = %s WHERE id = %s",  # noqa: S608
        [sealed, event.pk],
        reencrypt=True,
    )
    assert PaymentEvent.objects.get(pk=event.pk).raw_body == RAW
