"""Review finding 2: the sweep that adopts an ``unknown_payment`` receipt and
a C2B copy / staff allocation of that receipt at one moment, on PostgreSQL
where row locks are real. The sweep must keep the lock order payment,
booking, receipt (it used to lock the receipt first and deadlock)."""

import json
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from payments.daraja.callbacks import parse_stk_callback
from payments.models import MpesaReceipt, Payment, PaymentEvent
from payments.services import unmatched
from payments.services.c2b import c2b_store_and_apply_confirmation
from payments.services.ledger import ReceiptFacts, receipt_record
from payments.services.ledger_staff import receipt_allocate_to_booking
from payments.services.transitions import payment_send_to_review
from payments.tests.payloads import as_bytes, c2b_request
from payments.tests.test_unmatched_callbacks import timed_out_push, unknown_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RECEIPT = "UNK1234567"


def _outcome_unknown_with_its_receipt() -> Payment:
    """A payment in review (outcome unknown) whose callback's receipt sits in
    the ledger as ``unknown_payment``."""
    payment = timed_out_push()
    payment_send_to_review(
        payment_id=payment.pk,
        code="outcome_unknown",
        reason="push outcome unknown",
        only_if_open=True,
    )
    body = unknown_callback(payment)
    event = PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.CALLBACK,
        request_body=body,
        checkout_request_id="ws_CO_NEVERLEARNED0001",
        raw_body=json.dumps(body),
    )
    receipt_record(
        facts=ReceiptFacts(
            receipt_number=RECEIPT,
            channel="stk",
            amount=payment.amount,
            source="stk_callback",
            event_id=event.pk,
            payer_phone="254708374149",
            transacted_at=parse_stk_callback(body).transaction_date,
        ),
        allocation="unallocated",
        unallocated_reason="unknown_payment",
    )
    return payment


def _c2b_copy(payment: Payment) -> None:
    body = c2b_request(
        account=payment.booking.reference,
        trans_id=RECEIPT,
        amount=f"{payment.amount}.00",
    )
    c2b_store_and_apply_confirmation(
        raw_body=as_bytes(body), source_ip="196.201.214.200", headers={}
    )


def _staff_allocation(payment: Payment) -> None:
    staff = get_user_model().objects.create_user(
        username="fin", password="x", is_staff=True
    )
    receipt_allocate_to_booking(
        receipt_id=MpesaReceipt.objects.get(receipt_number=RECEIPT).pk,
        booking_reference=payment.booking.reference,
        actor=staff,
        note="client called",
    )


@pytest.mark.parametrize("rival", [_c2b_copy, _staff_allocation])
def test_sweep_adoption_racing_a_rival_claim_of_its_receipt_does_not_deadlock(
    monkeypatch, rival
):
    # given: the sweep holds the payment's lock (slowed down after its
    # checks), and a rival takes the same receipt for the booking meanwhile
    payment = _outcome_unknown_with_its_receipt()
    checked = threading.Event()
    adopt = unmatched.payment_adopt_checkout_id

    def slow_adopt(**kwargs):
        checked.set()
        time.sleep(2.0)
        return adopt(**kwargs)

    monkeypatch.setattr(unmatched, "payment_adopt_checkout_id", slow_adopt)
    errors: dict[str, str] = {}

    def sweep():
        try:
            unmatched.payment_adopt_unmatched_receipt(payment_id=payment.pk)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors["sweep"] = repr(exc)
        finally:
            connection.close()

    def claim():
        checked.wait(10)
        time.sleep(0.3)
        try:
            rival(payment)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors["rival"] = repr(exc)
        finally:
            connection.close()

    # when: both run at once
    threads = [threading.Thread(target=sweep), threading.Thread(target=claim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # then: no deadlock; the money is counted once, for the booking, and
    # the payment is settled with it
    assert errors == {}
    receipt = MpesaReceipt.objects.get(receipt_number=RECEIPT)
    payment.refresh_from_db()
    assert receipt.allocation == MpesaReceipt.Allocation.ALLOCATED
    assert receipt.booking_id == payment.booking_id
    assert payment.status == Payment.Status.COMPLETED
    assert MpesaReceipt.objects.count() == 1
