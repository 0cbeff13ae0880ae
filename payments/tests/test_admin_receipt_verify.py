"""Staff's "Verify with M-Pesa": the page, its permission, the button on
the receipt page, M-Pesa's answer shown masked in Nairobi time; the
Transaction Status checks' admin."""

import pytest
from django.urls import reverse

from bookings.tests.factories import UserFactory
from payments.daraja.exceptions import DarajaRejected
from payments.models import MpesaReceipt, TransactionStatusCheck
from payments.services.async_results import result_intake
from payments.tests.ledger_support import paybill_receipt
from payments.tests.refund_support import staff_in
from payments.tests.result_support import SHORT_CODE, as_bytes, status_result

pytestmark = pytest.mark.django_db
VERIFY_URL = reverse("admin:payments_transactionstatuscheck_verify")
LIST_URL = reverse("admin:payments_transactionstatuscheck_changelist")


@pytest.fixture(autouse=True)
def _shortcode(settings):
    settings.MPESA_BUSINESS_SHORT_CODE = SHORT_CODE


@pytest.fixture
def finance(client):
    user = staff_in("Finance")
    assert user.has_perm("payments.verify_receipt") is True
    client.force_login(user)
    return user


def test_verify_page_needs_the_permission(client):
    # given staff without payments.verify_receipt
    client.force_login(UserFactory(is_staff=True))

    # when they open the page
    response = client.get(VERIFY_URL)

    # then they are refused
    assert response.status_code == 403


def test_verify_sends_a_check_and_shows_the_answer(client, finance, fake_daraja):
    # when Finance verify a receipt
    response = client.post(VERIFY_URL, {"receipt_number": " tlk7new001 "})

    # then one query went, with Finance as its requester, and the page
    # shows the check for that receipt
    assert response.status_code == 302
    check = TransactionStatusCheck.objects.get()
    assert (check.transaction_id, check.requested_by) == ("TLK7NEW001", finance)
    assert fake_daraja.status_queries[0]["transaction_id"] == "TLK7NEW001"
    page = client.get(response["Location"]).content.decode()
    assert "Checks of TLK7NEW001" in page
    assert "Sent, awaiting" in page

    # when M-Pesa's answer arrives and the page is refreshed
    result_intake(
        raw_body=as_bytes(
            status_result(
                check,
                receipt="TLK7NEW001",
                amount=2500.0,
                debit_party="254708374149 - John Doe",
                credit_party=f"{SHORT_CODE} - Haki Yetu",
                reason_type="Pay Bill Online",
            )
        ),
        source_ip=None,
        headers={},
        timeout=False,
    )
    page = client.get(response["Location"]).content.decode()

    # then status, KES amount, masked payer, Nairobi time and the ledger
    assert "Completed" in page
    assert "KES 2,500" in page
    assert "2547******149 - John Doe" in page
    assert "254708374149" not in page
    assert "2026-12-02 10:15:02" in page
    assert "recorded_unallocated" in page
    assert MpesaReceipt.objects.get(receipt_number="TLK7NEW001").allocation == (
        MpesaReceipt.Allocation.UNALLOCATED
    )


@pytest.mark.parametrize("value", ["TLK-7", "A" * 21, ""])
def test_verify_refuses_a_bad_receipt_number_on_the_form(
    client, finance, fake_daraja, value
):
    # when the form holds no receipt number
    response = client.post(VERIFY_URL, {"receipt_number": value})

    # then the form says so, nothing is sent
    assert response.status_code == 200
    assert response.context["form"].errors
    assert fake_daraja.status_queries == []


def test_verify_a_refusal_by_daraja_is_shown(client, finance, fake_daraja):
    fake_daraja.status_result = DarajaRejected("400.003.02", "Bad Request")

    response = client.post(VERIFY_URL, {"receipt_number": "TLK7ABC123"}, follow=True)

    assert "did not take the query" in response.content.decode()
    assert TransactionStatusCheck.objects.get().state == "failed"


def test_receipt_page_has_the_verify_button(client, finance):
    # given a receipt in the ledger
    receipt = paybill_receipt("TLK7OLD001")

    # when Finance open its page
    url = reverse("admin:payments_mpesareceipt_change", args=[receipt.pk])
    page = client.get(url).content.decode()

    # then the button leads to the verify page for that receipt
    assert f"{VERIFY_URL}?receipt=TLK7OLD001" in page


def test_unallocated_money_page_has_the_verify_button(client, finance):
    receipt = paybill_receipt("TLK7OLD002")
    url = reverse("admin:payments_unallocatedreceipt_change", args=[receipt.pk])
    page = client.get(url).content.decode()
    assert f"{VERIFY_URL}?receipt=TLK7OLD002" in page


def test_checks_list_shows_answers_masked(client, finance, fake_daraja):
    # given an answered check
    client.post(VERIFY_URL, {"receipt_number": "TLK7NEW002"})
    check = TransactionStatusCheck.objects.get()
    result_intake(
        raw_body=as_bytes(status_result(check, receipt="TLK7NEW002")),
        source_ip=None,
        headers={},
        timeout=False,
    )

    # when the checks' list is opened
    page = client.get(LIST_URL).content.decode()

    # then the answer is there, parties masked, with the verify button
    assert "TLK7NEW002" in page
    assert "Answered" in page
    assert "2547******149 - John Doe" in page
    assert "254708374149" not in page
    assert "Verify with M-Pesa" in page
    detail = client.get(
        reverse("admin:payments_transactionstatuscheck_change", args=[check.pk])
    )
    assert detail.status_code == 200


def test_a_stored_result_event_shows_its_parties_masked(client, finance, fake_daraja):
    # given a stored Transaction Status answer naming the payer's number
    client.post(VERIFY_URL, {"receipt_number": "TLK7NEW003"})
    check = TransactionStatusCheck.objects.get()
    outcome = result_intake(
        raw_body=as_bytes(status_result(check, receipt="TLK7NEW003")),
        source_ip=None,
        headers={},
        timeout=False,
    )

    # when staff open the event
    url = reverse("admin:payments_paymentevent_change", args=[outcome.event_id])
    page = client.get(url).content.decode()

    # then the number is masked there too
    assert "2547******149 - John Doe" in page
    assert "254708374149" not in page
