"""Transaction Status for staff's "Verify with M-Pesa": what an answer
does to the ledger (money into our shortcode we never heard of is recorded
unallocated; a known receipt gains a sighting; money paid elsewhere is
not ours)."""

import pytest

from payments.models import MpesaReceipt
from payments.services.async_results import result_intake
from payments.services.status_checks import status_check_send
from payments.tests.ledger_support import paybill_receipt
from payments.tests.result_support import SHORT_CODE, as_bytes, status_result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _shortcode(settings):
    settings.MPESA_BUSINESS_SHORT_CODE = SHORT_CODE


def _intake(body: dict):
    return result_intake(
        raw_body=as_bytes(body), source_ip=None, headers={}, timeout=False
    )


def test_verify_unknown_money_into_our_shortcode_is_recorded_unallocated(
    fake_daraja,
):
    # given staff verify a receipt the ledger never heard of
    check = status_check_send(transaction_id="TLK7NEW001")

    # when M-Pesa says it completed into our shortcode
    _intake(
        status_result(
            check,
            receipt="TLK7NEW001",
            amount=2500.0,
            debit_party="254708374149 - John Doe",
            credit_party=f"{SHORT_CODE} - Haki Yetu",
            reason_type="Pay Bill Online",
        )
    )

    # then the ledger has it, unallocated, seen by Transaction Status
    receipt = MpesaReceipt.objects.get(receipt_number="TLK7NEW001")
    assert (receipt.allocation, receipt.unallocated_reason, receipt.amount) == (
        MpesaReceipt.Allocation.UNALLOCATED,
        MpesaReceipt.UnallocatedReason.UNKNOWN_PAYMENT,
        2500,
    )
    assert receipt.channel == MpesaReceipt.Channel.PAYBILL
    assert receipt.direction == MpesaReceipt.Direction.IN
    assert receipt.sightings.get().source == "transaction_status"
    check.refresh_from_db()
    assert check.answer["ledger"] == "recorded_unallocated"


def test_verify_a_known_receipt_adds_a_sighting_only(fake_daraja):
    # given a receipt already in the ledger
    paybill_receipt("TLK7OLD001", amount=3000)
    check = status_check_send(transaction_id="TLK7OLD001")

    # when M-Pesa confirms it
    _intake(
        status_result(
            check,
            receipt="TLK7OLD001",
            debit_party="254708374149 - John Doe",
            credit_party=f"{SHORT_CODE} - Haki Yetu",
        )
    )

    # then one receipt, seen once more
    receipt = MpesaReceipt.objects.get(receipt_number="TLK7OLD001")
    assert receipt.sightings.count() == 2
    assert MpesaReceipt.objects.count() == 1


def test_verify_money_paid_elsewhere_is_not_recorded(fake_daraja):
    # given staff verify a receipt paid to another business
    check = status_check_send(transaction_id="TLK7ELS001")

    # when M-Pesa says it completed into shortcode 999999
    _intake(
        status_result(
            check,
            receipt="TLK7ELS001",
            debit_party="254708374149 - John Doe",
            credit_party="999999 - Someone Else",
        )
    )

    # then nothing is in our ledger
    assert not MpesaReceipt.objects.exists()
    check.refresh_from_db()
    assert check.answer["ledger"] == "not_paid_to_us"
