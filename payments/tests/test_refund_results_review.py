"""Review findings F2 and F3 on refund results: an answer about a repeated
request, or one that does not prove this refund's own money went out,
never settles the refund (it stays ``unknown`` for Transaction Status)."""

import pytest

from payments.models import Refund
from payments.services.async_results import result_intake
from payments.services.refund_policy import refund_remaining
from payments.tests.ledger_support import paybill_receipt
from payments.tests.result_support import as_bytes, reversal_result, submitted_refund

pytestmark = pytest.mark.django_db
Status = Refund.Status


def _intake(body: dict) -> None:
    result_intake(
        raw_body=as_bytes(body), source_ip="196.201.214.200", headers={}, timeout=False
    )


def _refreshed(refund: Refund) -> Refund:
    refund.refresh_from_db()
    return refund


def test_a_duplicate_request_answer_never_fails_the_refund_nor_frees_its_amount(
    fake_daraja,
):
    refund = submitted_refund(fake_daraja)

    _intake(
        reversal_result(refund, code="2006", desc="Duplicate OriginatorConversationID")
    )

    assert _refreshed(refund).status == Status.UNKNOWN
    assert refund_remaining(refund.receipt) == 0
    # The first request's success still completes it.
    _intake(reversal_result(refund))
    assert _refreshed(refund).status == Status.COMPLETED


def test_a_success_naming_another_receipt_as_paid_back_is_no_proof(fake_daraja):
    refund = submitted_refund(fake_daraja)
    body = reversal_result(refund)
    parameters = body["Result"]["ResultParameters"]["ResultParameter"]
    for item in parameters:
        if item["Key"] == "OriginalTransactionID":
            item["Value"] = "TLKOTHER01"

    _intake(body)

    assert _refreshed(refund).status == Status.UNKNOWN
    assert refund.outgoing_receipt is None


def test_a_success_for_another_amount_is_no_proof(fake_daraja):
    refund = submitted_refund(fake_daraja)
    body = reversal_result(refund)
    for item in body["Result"]["ResultParameters"]["ResultParameter"]:
        if item["Key"] == "Amount":
            item["Value"] = 1.0

    _intake(body)

    assert _refreshed(refund).status == Status.UNKNOWN


@pytest.mark.parametrize("whose", ["money in", "paid-back receipt"])
def test_a_success_whose_receipt_is_not_money_out_is_no_proof(fake_daraja, whose):
    refund = submitted_refund(fake_daraja)
    number = (
        paybill_receipt("TLKMONEYIN1").receipt_number
        if whose == "money in"
        else refund.receipt.receipt_number
    )

    _intake(reversal_result(refund, receipt=number))

    assert _refreshed(refund).status == Status.UNKNOWN
    assert refund.receipt.allocation != "refunded"


def test_a_success_after_a_failure_is_logged_as_an_error(fake_daraja, caplog):
    refund = submitted_refund(fake_daraja)
    _intake(
        reversal_result(
            refund, code="2001", desc="The initiator information is invalid."
        )
    )
    assert _refreshed(refund).status == Status.FAILED

    _intake(reversal_result(refund))

    assert _refreshed(refund).status == Status.FAILED
    assert "SUCCESS" in caplog.text
    assert refund.events.filter(reason__contains="reports SUCCESS").exists()
