"""core.compiled_sql writes what the ORM's save() and update() would."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from core import crypto
from core.compiled_sql import (
    IntSlot,
    Slot,
    SqlValue,
    insert_instance,
    insert_object,
    insert_row,
    instances_from_sql,
    save_fields,
    select_compiled,
    update_rows,
)
from payments.models import MpesaReceipt, MpesaReceiptSighting, Payment, PaymentEvent
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def _receipt(number: str = "QKA1B2C3D4", **overrides) -> MpesaReceipt:
    values = {
        "receipt_number": number,
        "channel": MpesaReceipt.Channel.STK,
        "amount": 1500,
        "payer_phone": "254712345678",
        "allocation": MpesaReceipt.Allocation.UNALLOCATED,
        "unallocated_reason": "unknown_payment",
    }
    return MpesaReceipt(**(values | overrides))


def test_inserted_event_reads_back_as_the_orm_would_store_it():
    payment = PaymentFactory()
    body = {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1"}}}
    pk = insert_row(
        PaymentEvent,
        {
            "kind": PaymentEvent.Kind.CALLBACK,
            "payment": payment,
            "request_body": body,
            "headers": {"User-Agent": "Daraja"},
            "source_ip": "196.201.214.200",
            "checkout_request_id": "ws_CO_1",
        },
    )
    stored = PaymentEvent.objects.get(pk=pk)
    assert stored.payment_id == payment.pk
    assert stored.request_body == body  # decrypted again
    assert stored.headers == {"User-Agent": "Daraja"}
    assert stored.source_ip == "196.201.214.200"
    assert stored.created_at is not None  # auto_now_add
    assert stored.reason == ""  # defaults
    assert stored.http_status is None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT request_body FROM payments_paymentevent WHERE id = %s", [pk]
        )
        (ciphertext,) = cursor.fetchone()
    assert "CheckoutRequestID" not in ciphertext  # encrypted at rest


def test_a_sql_value_is_computed_by_the_statement():
    payment = PaymentFactory(checkout_request_id="ws_CO_SUB")
    lookup = "SELECT id FROM payments_payment WHERE checkout_request_id = %s"
    found = insert_row(
        PaymentEvent,
        {"kind": "note", "payment_id": SqlValue(lookup, ("ws_CO_SUB",))},
    )
    missing = insert_row(
        PaymentEvent,
        {"kind": "note", "payment_id": SqlValue(lookup, ("ws_CO_NONE",))},
    )
    assert PaymentEvent.objects.get(pk=found).payment_id == payment.pk
    assert PaymentEvent.objects.get(pk=missing).payment_id is None


def test_insert_instance_holds_what_was_given_and_reads_the_rest():
    payment = PaymentFactory()
    event = insert_instance(
        PaymentEvent, {"kind": "note", "payment_id": payment.pk, "reason": "hello"}
    )
    assert event.pk is not None
    assert event.reason == "hello"
    assert event.created_at == PaymentEvent.objects.get(pk=event.pk).created_at
    with pytest.raises(Exception, match="append-only"):
        event.save()  # a stored row, as the ORM's would be


def test_unknown_fields_are_refused_and_nothing_is_written():
    with pytest.raises(TypeError, match="no field colour"):
        insert_row(PaymentEvent, {"kind": "note", "colour": "red"})
    assert not PaymentEvent.objects.exists()


def test_insert_object_computes_phone_indexes_like_save():
    via_helper = _receipt("QKA1B2C3D4")
    assert insert_object(via_helper) is True
    via_orm = _receipt("QKA1B2C3D5")
    via_orm.save()
    stored = MpesaReceipt.objects.get(pk=via_helper.pk)
    assert stored.payer_phone == "254712345678"
    assert stored.payer_phone_index == crypto.payer_phone_index("254712345678")
    assert stored.payer_phone_index == via_orm.payer_phone_index
    assert stored.payer_phone_masked_key == via_orm.payer_phone_masked_key
    assert stored.created_at is not None
    assert stored.updated_at is not None


def test_skip_if_exists_skips_only_the_named_conflict():
    assert insert_object(_receipt(), skip_if_exists_on=("receipt_number",))
    again = _receipt(amount=99)
    assert not insert_object(again, skip_if_exists_on=("receipt_number",))
    assert again.pk is None
    assert MpesaReceipt.objects.get().amount == 1500
    # Any other constraint still raises, on SQLite as on PostgreSQL.
    broken = _receipt("QKA1B2C3D9", unallocated_reason="")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_object(broken, skip_if_exists_on=("receipt_number",))
    assert MpesaReceipt.objects.count() == 1


def test_insert_row_computes_indexes_and_skips_the_named_conflict():
    values = {
        "receipt_number": "QKA1B2C3D4",
        "channel": MpesaReceipt.Channel.STK,
        "amount": 1500,
        "payer_phone": "254712345678",
        "allocation": MpesaReceipt.Allocation.UNALLOCATED,
        "unallocated_reason": "unknown_payment",
    }
    pk = insert_row(MpesaReceipt, values, skip_if_exists_on=("receipt_number",))
    stored = MpesaReceipt.objects.get(pk=pk)
    assert stored.payer_phone_index == crypto.payer_phone_index("254712345678")
    assert stored.payer_phone_masked_key == _saved_masked_key("254712345678")
    again = values | {"amount": 7}
    skipped = insert_row(MpesaReceipt, again, skip_if_exists_on=("receipt_number",))
    assert skipped is None
    assert MpesaReceipt.objects.get(pk=pk).amount == 1500
    assert MpesaReceipt.objects.filter(receipt_number="QKA1B2C3D4").count() == 1


def _saved_masked_key(phone: str) -> str:
    receipt = _receipt("QKZZZZZZZ1", payer_phone=phone)
    receipt.save()
    return receipt.payer_phone_masked_key


def test_save_fields_updates_named_fields_times_and_indexes_only():
    payment = PaymentFactory(status=Payment.Status.PENDING)
    before = Payment.objects.get(pk=payment.pk)
    payment.status = Payment.Status.COMPLETED
    payment.paid_phone_number = "254700000001"
    payment.result_desc = "not saved: not named"
    save_fields(payment, ("status", "paid_phone_number"))
    stored = Payment.objects.get(pk=payment.pk)
    assert stored.status == Payment.Status.COMPLETED
    assert stored.paid_phone_number == "254700000001"
    assert stored.paid_phone_index == crypto.phone_index("254700000001")
    assert payment.paid_phone_index == stored.paid_phone_index  # on the instance
    assert stored.result_desc == before.result_desc
    assert stored.updated_at > before.updated_at


def test_save_fields_raises_when_the_row_is_gone():
    payment = PaymentFactory()
    Payment.objects.filter(pk=payment.pk).update(booking=payment.booking)
    payment.pk = payment.pk + 1000
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        save_fields(payment, ("status",))


def test_update_rows_updates_only_rows_matching_every_filter():
    awaiting = BookingFactory()
    other = BookingFactory()
    status, paid = awaiting.status, awaiting.payment_status
    count = update_rows(
        Booking,
        {"id": awaiting.pk, "status": status, "payment_status": paid},
        {"status": Booking.Status.CONFIRMED, "payment_status": "paid"},
    )
    assert count == 1
    assert Booking.objects.get(pk=awaiting.pk).status == Booking.Status.CONFIRMED
    assert Booking.objects.get(pk=other.pk).status == status
    again = update_rows(
        Booking,
        {"id": awaiting.pk, "status": status, "payment_status": paid},
        {"status": Booking.Status.CONFIRMED, "payment_status": "paid"},
    )
    assert again == 0  # the guard no longer matches


def test_the_statement_is_one_query_seen_by_djangos_logging():
    PaymentEvent.objects.create(kind="note")  # warm the ORM's own caches
    with CaptureQueriesContext(connection) as queries:
        insert_row(PaymentEvent, {"kind": "note", "reason": "logged"})
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('INSERT INTO "payments_paymentevent"')


def test_models_with_save_signals_are_refused():
    def receiver(**kwargs):
        pass

    post_save.connect(receiver, sender=MpesaReceiptSighting, weak=False)
    try:
        receipt = _receipt()
        receipt.save()
        with pytest.raises(TypeError, match="save signals"):
            insert_row(
                MpesaReceiptSighting,
                {"receipt_id": receipt.pk, "source": "stk_callback"},
            )
        assert not MpesaReceiptSighting.objects.exists()
    finally:
        post_save.disconnect(receiver, sender=MpesaReceiptSighting)


def test_instances_from_sql_equal_what_raw_gives():
    payment = PaymentFactory(phone_number="254712345678")
    sql = (
        "SELECT payments_payment.*, 7 AS lucky FROM payments_payment "
        "WHERE payments_payment.id = %s"
    )
    (fetched,) = instances_from_sql(Payment, sql, [payment.pk], using="default")
    (raw,) = Payment.objects.raw(sql, [payment.pk])
    for field in Payment._meta.concrete_fields:
        assert getattr(fetched, field.attname) == getattr(raw, field.attname), field
    assert fetched.phone_number == "254712345678"  # decrypted
    assert fetched.created_at == payment.created_at  # a datetime, on SQLite too
    assert fetched.lucky == 7
    assert not fetched._state.adding
    assert instances_from_sql(Payment, sql, [payment.pk + 99], using="default") == []


def test_select_compiled_fills_its_slots_with_each_calls_values():
    first = PaymentFactory(checkout_request_id="ws_CO_A")
    second = PaymentFactory(checkout_request_id="ws_CO_B")
    by_id, by_checkout = IntSlot("test_id"), Slot("test_checkout")

    def build():
        return Payment.objects.filter(pk=by_id) | Payment.objects.filter(
            checkout_request_id=by_checkout
        )

    def run(pk: int, checkout: str) -> set[int]:
        values = {by_id: pk, by_checkout: checkout}
        found = select_compiled(Payment, "test_select", build, values, using="default")
        return {p.pk for p in found}

    assert run(first.pk, "ws_CO_B") == {first.pk, second.pk}
    assert run(second.pk, "none") == {second.pk}  # the same SQL, new values
    assert run(first.pk + 100, "ws_CO_A") == {first.pk}
    with pytest.raises(RuntimeError, match="slots not in the query"):
        select_compiled(
            Payment,
            "test_select_missing",
            lambda: Payment.objects.all(),
            {by_id: 1},
            using="default",
        )


@pytest.mark.django_db(transaction=True)
def test_a_compiled_lock_still_refuses_to_run_outside_a_transaction():
    payment = PaymentFactory()
    slot = IntSlot("test_lock_id")

    def build():
        return Payment.objects.select_for_update().filter(pk=slot)

    with transaction.atomic():
        (locked,) = select_compiled(
            Payment, "test_lock", build, {slot: payment.pk}, using="default"
        )
    assert locked.pk == payment.pk
    with pytest.raises(TransactionManagementError):
        select_compiled(
            Payment, "test_lock", build, {slot: payment.pk}, using="default"
        )


def test_a_slot_without_a_value_is_refused_when_compiled():
    left_out = Slot("test_left_out")
    with pytest.raises(RuntimeError, match="without a value"):
        select_compiled(
            Payment,
            "test_left_out",
            lambda: Payment.objects.filter(checkout_request_id=left_out),
            {},
            using="default",
        )


def test_update_rows_sends_no_signals_and_needs_none_as_update_does():
    def receiver(**kwargs):
        pass

    booking = BookingFactory()
    post_save.connect(receiver, sender=Booking, weak=False)
    try:
        assert update_rows(Booking, {"id": booking.pk}, {"duration": 45}) == 1
    finally:
        post_save.disconnect(receiver, sender=Booking)
    with pytest.raises(ValueError, match="no None"):
        update_rows(Booking, {"id": None}, {"duration": 45})


def test_insert_row_computes_times_and_indexes_whatever_it_is_given():
    old = timezone.now() - timedelta(days=400)
    pk = insert_row(
        MpesaReceipt,
        {
            "receipt_number": "QKA1B2C3D7",
            "channel": MpesaReceipt.Channel.STK,
            "amount": 10,
            "payer_phone": "254712345678",
            "payer_phone_index": "forged",
            "allocation": MpesaReceipt.Allocation.UNALLOCATED,
            "unallocated_reason": "unknown_payment",
            "created_at": old,
        },
    )
    stored = MpesaReceipt.objects.get(pk=pk)
    assert stored.created_at > old + timedelta(days=399)  # as save(): now
    assert stored.payer_phone_index == crypto.payer_phone_index("254712345678")
    with pytest.raises(TypeError, match="primary key"):
        insert_row(PaymentEvent, {"kind": "note", "id": 12345})


def test_a_refused_insert_marks_the_transaction_for_rollback():
    marked = []

    def refuse_inside_a_block():
        with transaction.atomic():
            with pytest.raises(IntegrityError):
                insert_object(_receipt("lower-case"))  # breaks the CHECK constraint
            # caught without a savepoint: the block can only roll back, as save()
            marked.append(transaction.get_connection().needs_rollback)
            raise LookupError("leave the block")

    with pytest.raises(LookupError):
        refuse_inside_a_block()
    assert marked == [True]
    assert not MpesaReceipt.objects.exists()


def test_insert_instance_shows_the_time_stored_not_the_one_given():
    old = timezone.now() - timedelta(days=400)
    event = insert_instance(PaymentEvent, {"kind": "note", "created_at": old})
    stored = PaymentEvent.objects.get(pk=event.pk).created_at
    assert event.created_at == stored
    assert stored > old + timedelta(days=399)
