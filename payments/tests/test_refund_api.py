"""The staff refunds API (issue 14, point 9): every endpoint, its
permissions and its errors in the API's one JSON error shape."""

import pytest
from rest_framework.test import APIClient

from bookings.tests.factories import UserFactory
from payments.models import Refund
from payments.services.refunds import refund_approve, refund_request
from payments.tests.ledger_support import paybill_receipt
from payments.tests.refund_support import (
    b2c_settings,
    cancelled_paid_booking_receipt,
    staff_in,
)

pytestmark = pytest.mark.django_db
URL = "/api/staff/refunds/"
Status = Refund.Status


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def support():
    return staff_in("Support", username="support1")


@pytest.fixture
def finance():
    return staff_in("Finance", username="finance1")


def _requested(actor, number: str = "TLK7REF001") -> Refund:
    receipt = cancelled_paid_booking_receipt(number)
    return refund_request(
        receipt_number=receipt.receipt_number, reason="cancelled", actor=actor
    )


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_request_refunds_the_whole_receipt_by_default(support):
    # given
    receipt = cancelled_paid_booking_receipt()
    # when
    response = _as(support).post(
        URL, {"receipt_number": receipt.receipt_number, "reason": "cancelled"}
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == 3000
    assert body["method"] == "reversal"
    assert body["status"] == "requested"
    assert body["receipt_number"] == "TLK7REF001"
    assert body["booking_reference"] == receipt.booking.reference
    assert body["requested_by"] == "support1"
    assert body["approved_by"] is None
    assert Refund.objects.get().pk == body["id"]


def test_request_of_part_sends_b2c_to_a_masked_recipient(settings, support):
    # given
    b2c_settings(settings)
    paybill_receipt("TLK7REF003", payer_phone="2547 ***** 149")
    # when
    response = _as(support).post(
        URL,
        {
            "receipt_number": "TLK7REF003",
            "amount": 500,
            "reason": "overpaid",
            "recipient_phone": "0712345678",
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["method"], body["amount"]) == ("b2c", 500)
    assert body["recipient_phone"] == "2547******678"
    assert "254712345678" not in response.content.decode()


@pytest.mark.parametrize("amount", [0, -1, "12.50", "abc"])
def test_request_with_a_bad_amount_is_400_on_the_field(support, amount):
    # given
    receipt = cancelled_paid_booking_receipt()
    # when
    response = _as(support).post(
        URL,
        {
            "receipt_number": receipt.receipt_number,
            "reason": "cancelled",
            "amount": amount,
        },
        format="json",
    )
    # then
    assert "amount" in _error(response, 400)["fields"]
    assert not Refund.objects.exists()


def test_request_over_the_receipt_is_400_on_the_amount(support):
    # given
    receipt = cancelled_paid_booking_receipt()
    # when
    response = _as(support).post(
        URL,
        {
            "receipt_number": receipt.receipt_number,
            "reason": "cancelled",
            "amount": 3001,
        },
    )
    # then
    error = _error(response, 400)
    assert error["code"] == "refund_refused"
    assert "amount" in error["fields"]


def test_request_of_an_unknown_receipt_is_400_on_the_receipt_number(support):
    # when
    response = _as(support).post(
        URL, {"receipt_number": "NOSUCH1", "reason": "cancelled"}
    )
    # then
    error = _error(response, 400)
    assert "receipt_number" in error["fields"]
    assert "NOSUCH1" in error["message"]


def test_request_with_an_unknown_reason_is_400(support):
    receipt = cancelled_paid_booking_receipt()
    response = _as(support).post(
        URL, {"receipt_number": receipt.receipt_number, "reason": "because"}
    )
    assert "reason" in _error(response, 400)["fields"]


def test_list_is_paginated_newest_first_and_filters_by_status(support, finance):
    # given
    first = _requested(support, "TLK7REF001")
    second = _requested(support, "TLK7REF002")
    refund_approve(refund_id=first.pk, actor=finance)
    # when
    everything = _as(support).get(URL).json()
    approved = _as(support).get(URL, {"status": "approved"}).json()
    # then
    assert everything["count"] == 2
    assert [r["id"] for r in everything["results"]] == [second.pk, first.pk]
    assert [r["id"] for r in approved["results"]] == [first.pk]
    assert approved["results"][0]["approved_by"] == "finance1"


def test_list_with_an_unknown_status_is_400(support):
    response = _as(support).get(URL, {"status": "lost"})
    assert "status" in _error(response, 400)["fields"]


def test_detail_shows_every_field(support):
    # given
    refund = _requested(support)
    # when
    body = _as(support).get(f"{URL}{refund.pk}/").json()
    # then
    assert set(body) == {
        "id",
        "receipt_number",
        "booking_reference",
        "amount",
        "method",
        "reason",
        "reason_text",
        "status",
        "requested_by",
        "approved_by",
        "originator_conversation_id",
        "conversation_id",
        "result_code",
        "result_description",
        "refund_receipt_number",
        "recipient_phone",
        "created_at",
        "approved_at",
        "submitted_at",
        "resolved_at",
    }
    assert body["originator_conversation_id"] == str(refund.originator_conversation_id)


@pytest.mark.parametrize("path", ["{}/", "{}/approve/", "{}/reject/", "{}/cancel/"])
def test_an_unknown_id_is_404(finance, path):
    response = _as(finance).post(URL + path.format(999999), {"note": "x"})
    if path == "{}/":
        response = _as(finance).get(URL + path.format(999999))
    assert _error(response, 404)["code"] == "not_found"


def test_finance_approves_a_refund_support_requested(support, finance):
    # given
    refund = _requested(support)
    # when
    response = _as(finance).post(f"{URL}{refund.pk}/approve/", {"note": "checked"})
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["approved_by"]) == ("approved", "finance1")
    assert body["approved_at"] is not None


def test_approving_twice_is_409_and_changes_nothing(support, finance):
    # given
    refund = _requested(support)
    _as(finance).post(f"{URL}{refund.pk}/approve/")
    other = staff_in("Finance", username="finance2")
    # when
    response = _as(other).post(f"{URL}{refund.pk}/approve/")
    # then
    error = _error(response, 409)
    assert error["code"] == "invalid_refund_transition"
    assert "finance1" in error["message"]
    refund.refresh_from_db()
    assert refund.approved_by.username == "finance1"


def test_support_cannot_approve(support):
    # given
    refund = _requested(staff_in("Support", username="support2"))
    # when
    response = _as(support).post(f"{URL}{refund.pk}/approve/")
    # then
    assert _error(response, 403)["code"] == "permission_denied"
    refund.refresh_from_db()
    assert refund.status == Status.REQUESTED


def test_the_requester_cannot_approve_their_own_refund_409(finance):
    # given
    refund = _requested(finance)
    # when
    response = _as(finance).post(f"{URL}{refund.pk}/approve/")
    # then
    error = _error(response, 409)
    assert error["reason_code"] == "same_person"


def test_reject_needs_a_note(support, finance):
    # given
    refund = _requested(support)
    # when
    response = _as(finance).post(f"{URL}{refund.pk}/reject/", {})
    # then
    assert "note" in _error(response, 400)["fields"]
    refund.refresh_from_db()
    assert refund.status == Status.REQUESTED


def test_reject_with_a_note(support, finance):
    refund = _requested(support)
    response = _as(finance).post(f"{URL}{refund.pk}/reject/", {"note": "client stayed"})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"


def test_the_requester_cancels_and_cannot_cancel_twice_into_another_state(
    support, finance
):
    # given
    refund = _requested(support)
    # when
    response = _as(support).post(f"{URL}{refund.pk}/cancel/", {"note": "by mistake"})
    # then
    assert response.json()["status"] == "cancelled"
    again = _as(finance).post(f"{URL}{refund.pk}/reject/", {"note": "late"})
    assert _error(again, 409)["code"] == "invalid_refund_transition"


def test_someone_else_cannot_cancel_403(support):
    refund = _requested(support)
    other = staff_in("Support", username="support2")
    response = _as(other).post(f"{URL}{refund.pk}/cancel/")
    assert _error(response, 403)["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("post", ""),
        ("get", "{}/"),
        ("post", "{}/approve/"),
        ("post", "{}/reject/"),
        ("post", "{}/cancel/"),
    ],
)
def test_clients_get_403_on_every_endpoint(support, method, path):
    # given a client (and a staff user with no group: no view_refund)
    refund = _requested(support)
    for user in (UserFactory(), UserFactory(staff=True)):
        # when
        response = getattr(_as(user), method)(
            URL + path.format(refund.pk), {"note": "x", "reason": "cancelled"}
        )
        # then
        assert _error(response, 403)["code"] == "permission_denied"
    refund.refresh_from_db()
    assert refund.status == Status.REQUESTED


def test_anonymous_callers_are_refused(support):
    response = APIClient().get(URL)
    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_the_schema_documents_the_staff_refund_paths():
    response = APIClient().get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    assert {
        "/api/staff/refunds/",
        "/api/staff/refunds/{id}/",
        "/api/staff/refunds/{id}/approve/",
        "/api/staff/refunds/{id}/reject/",
        "/api/staff/refunds/{id}/cancel/",
    } <= set(paths)
