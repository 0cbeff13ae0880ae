"""The refunds queue in the admin (issue 14, point 8): the list per group,
filters and search, the read-only page, each decision's confirmation
page and its POST, refusals as messages, "Request refund…" on a
receipt's page and the refunds sections of receipts and bookings."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from bookings.tests.factories import UserFactory
from payments.models import PaymentEvent, Refund
from payments.services.refunds import refund_approve, refund_request
from payments.tests.ledger_support import paybill_receipt
from payments.tests.refund_support import (
    b2c_settings,
    cancelled_paid_booking_receipt,
    staff_in,
)

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:payments_refund_changelist")
Status = Refund.Status


@pytest.fixture
def support():
    return staff_in("Support", username="support1")


@pytest.fixture
def finance():
    return staff_in("Finance", username="finance1")


def _requested(actor, number: str = "TLK7REF001", **fields) -> Refund:
    receipt = fields.pop("receipt", None) or cancelled_paid_booking_receipt(number)
    values = {"reason": "cancelled", **fields}
    return refund_request(receipt_number=receipt.receipt_number, actor=actor, **values)


def _page_url(refund: Refund) -> str:
    return reverse("admin:payments_refund_change", args=[refund.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _act(client, action: str, refund: Refund, **fields):
    data = {"action": action, "_selected_action": [refund.pk], **fields}
    return client.post(LIST_URL, data, follow="apply" in fields)


def _found(client, term: str) -> set[int]:
    response = client.get(LIST_URL, {"q": term})
    assert response.status_code == 200
    return {refund.pk for refund in response.context["cl"].result_list}


@pytest.mark.parametrize("group", ["Support", "Finance"])
def test_changelist_shows_the_queue_columns_to_both_groups(client, support, group):
    # given
    refund = _requested(support)
    client.force_login(staff_in(group, username="viewer"))
    # when
    response = client.get(LIST_URL)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("TLK7REF001", refund.booking.reference, "KES 3,000", "support1"):
        assert text in html
    assert "Requested" in html
    assert "Reversal (whole receipt)" in html


def test_changelist_is_refused_without_view_refund(client, support):
    # given
    _requested(support)
    client.force_login(UserFactory(staff=True))
    # when / then
    assert client.get(LIST_URL).status_code == 403


def test_support_sees_cancel_but_not_approve_or_reject(client, support):
    client.force_login(support)
    choices = dict(client.get(LIST_URL).context["action_form"].fields["action"].choices)
    assert "cancel_refunds" in choices
    assert "approve_refunds" not in choices
    assert "reject_refunds" not in choices


def test_finance_sees_every_decision(client, finance):
    client.force_login(finance)
    choices = dict(client.get(LIST_URL).context["action_form"].fields["action"].choices)
    assert {"approve_refunds", "reject_refunds", "cancel_refunds"} <= set(choices)


def test_queue_filter_separates_awaiting_approval_from_done(client, support, finance):
    # given
    waiting = _requested(support, "TLK7REF001")
    approved = _requested(support, "TLK7REF002")
    refund_approve(refund_id=approved.pk, actor=finance)
    rejected = _requested(support, "TLK7REF003")
    client.force_login(finance)
    client.post(
        LIST_URL,
        {
            "action": "reject_refunds",
            "_selected_action": [rejected.pk],
            "note": "dup",
            "apply": "1",
        },
    )

    def queue(name: str) -> set[int]:
        response = client.get(LIST_URL, {"queue": name})
        return {refund.pk for refund in response.context["cl"].result_list}

    # then
    assert queue("requested") == {waiting.pk}
    assert queue("approved") == {approved.pk}
    assert queue("done") == {rejected.pk}
    assert queue("unknown") == set()


def test_search_by_receipt_booking_reference_id_and_conversation_id(client, support):
    # given
    refund = _requested(support, "TLK7REF001")
    other = _requested(support, "TLK7REF002")
    client.force_login(support)
    # when / then
    assert _found(client, "tlk7ref001") == {refund.pk}
    assert _found(client, refund.booking.reference.lower()) == {refund.pk}
    assert _found(client, str(other.pk)) == {other.pk}
    assert _found(client, str(refund.originator_conversation_id)) == {refund.pk}
    assert _found(client, "nothing-like-it") == set()


def test_refund_page_is_read_only_with_its_event_log_and_a_masked_phone(
    client, settings, support
):
    # given
    b2c_settings(settings)
    receipt = paybill_receipt("TLK7REF004", payer_phone="2547 ***** 149")
    refund = _requested(
        support,
        receipt=receipt,
        amount=500,
        reason="overpaid",
        recipient_phone="0712345678",
    )
    client.force_login(support)
    # when
    response = client.get(_page_url(refund))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "2547******678" in html
    assert "254712345678" not in html
    assert "0712345678" not in html
    assert 'name="_save"' not in html
    assert "KES 500" in html
    assert PaymentEvent.objects.get(refund=refund).reason in html
    assert settings.MPESA_B2C_INITIATOR_PASSWORD not in html


def test_nobody_adds_changes_or_deletes_a_refund(client, support, finance):
    refund = _requested(support)
    client.force_login(finance)
    assert client.get(reverse("admin:payments_refund_add")).status_code == 403
    delete = reverse("admin:payments_refund_delete", args=[refund.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.post(_page_url(refund), {"status": "approved"}).status_code == 403
    refund.refresh_from_db()
    assert refund.status == Status.REQUESTED


def test_refund_page_offers_finance_the_decisions_and_support_only_cancel(
    client, support, finance
):
    refund = _requested(support)
    client.force_login(finance)
    html = client.get(_page_url(refund)).content.decode()
    assert 'value="approve_refunds"' in html
    assert 'value="reject_refunds"' in html
    client.force_login(support)
    html = client.get(_page_url(refund)).content.decode()
    assert 'value="approve_refunds"' not in html
    assert 'value="cancel_refunds"' in html


def test_approve_asks_for_confirmation_showing_the_money(client, support, finance):
    # given
    refund = _requested(support)
    client.force_login(finance)
    # when
    response = _act(client, "approve_refunds", refund)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "admin/payments/refund/decide.html"
    for text in ("KES 3,000", "TLK7REF001", refund.booking.reference, "support1"):
        assert text in html
    assert 'name="note"' in html
    refund.refresh_from_db()
    assert refund.status == Status.REQUESTED


def test_approve_confirmed_approves_with_a_message(client, support, finance):
    # given
    refund = _requested(support)
    client.force_login(finance)
    # when
    response = _act(client, "approve_refunds", refund, note="checked", apply="1")
    # then
    assert _messages(response) == [f"Refund {refund.pk} approved."]
    refund.refresh_from_db()
    assert (refund.status, refund.approved_by, refund.decision_note) == (
        Status.APPROVED,
        finance,
        "checked",
    )


def test_approve_sent_twice_from_two_tabs_is_harmless(client, support, finance):
    # given
    refund = _requested(support)
    client.force_login(finance)
    _act(client, "approve_refunds", refund, apply="1")
    # when
    response = _act(client, "approve_refunds", refund, apply="1")
    # then
    assert response.status_code == 200
    assert "only a requested refund can be approved" in _messages(response)[0]
    assert Refund.objects.get().status == Status.APPROVED
    assert PaymentEvent.objects.filter(refund=refund, to_status="approved").count() == 1


def test_the_requester_approving_is_refused_as_a_message(client):
    # given
    maker = staff_in("Finance", username="maker")
    refund = _requested(maker)
    client.force_login(maker)
    # when
    response = _act(client, "approve_refunds", refund, apply="1")
    # then
    assert "another person must approve" in _messages(response)[0]
    assert Refund.objects.get().status == Status.REQUESTED


def test_above_the_limit_the_refusal_is_a_message(client, settings, support, finance):
    settings.REFUND_APPROVAL_LIMIT = 1000
    refund = _requested(support)
    client.force_login(finance)
    response = _act(client, "approve_refunds", refund, apply="1")
    assert "above KES 1,000" in _messages(response)[0]


def test_support_posting_approve_changes_nothing(client, support):
    refund = _requested(staff_in("Support", username="support2"))
    client.force_login(support)
    response = _act(client, "approve_refunds", refund, apply="1")
    assert response.status_code == 200
    assert Refund.objects.get().status == Status.REQUESTED


def test_reject_needs_a_note(client, support, finance):
    # given
    refund = _requested(support)
    client.force_login(finance)
    # when
    response = _act(client, "reject_refunds", refund, note=" ", apply="1")
    # then
    assert response.templates[0].name == "admin/payments/refund/decide.html"
    assert response.context["form"].errors["note"]
    assert Refund.objects.get().status == Status.REQUESTED


def test_reject_with_a_note_rejects(client, support, finance):
    refund = _requested(support)
    client.force_login(finance)
    response = _act(client, "reject_refunds", refund, note="stayed", apply="1")
    assert _messages(response) == [f"Refund {refund.pk} rejected."]
    assert Refund.objects.get().status == Status.REJECTED


def test_the_requester_cancels_and_another_is_refused(client, support):
    # given
    refund = _requested(support)
    client.force_login(staff_in("Support", username="other"))
    # when
    refused = _act(client, "cancel_refunds", refund, apply="1")
    client.force_login(support)
    cancelled = _act(client, "cancel_refunds", refund, note="mistake", apply="1")
    # then
    assert "Only the person who requested" in _messages(refused)[0]
    assert _messages(cancelled) == [f"Refund {refund.pk} cancelled."]
    assert Refund.objects.get().status == Status.CANCELLED


def test_a_decision_on_a_decided_refund_is_a_message(client, support, finance):
    refund = _requested(support)
    refund_approve(refund_id=refund.pk, actor=finance)
    client.force_login(finance)
    response = _act(client, "reject_refunds", refund, note="late", apply="1")
    assert "cannot become rejected" in _messages(response)[0]


def _receipt_page(receipt) -> str:
    return reverse("admin:payments_mpesareceipt_change", args=[receipt.pk])


def _request_url(receipt) -> str:
    return reverse("admin:payments_refund_request", args=[receipt.pk])


def _viewer_of_receipts_only():
    user = UserFactory(staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_mpesareceipt"))
    return user


def test_receipt_page_lists_its_refunds_and_offers_a_request(client, support):
    # given
    receipt = cancelled_paid_booking_receipt()
    refund = _requested(support, receipt=receipt)
    client.force_login(support)
    # when
    response = client.get(_receipt_page(receipt))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="refunds-group"' in html
    assert f"Refund {refund.pk}" in html
    assert "Request refund…" in html
    assert _request_url(receipt) in html


def test_unallocated_money_page_offers_a_request_too(client, support):
    receipt = paybill_receipt("TLK7REF005")
    client.force_login(support)
    url = reverse("admin:payments_unallocatedreceipt_change", args=[receipt.pk])
    html = client.get(url).content.decode()
    assert _request_url(receipt) in html


def test_receipt_page_hides_refunds_from_users_without_refund_permissions(
    client, support
):
    # given
    receipt = cancelled_paid_booking_receipt()
    _requested(support, receipt=receipt)
    client.force_login(_viewer_of_receipts_only())
    # when
    html = client.get(_receipt_page(receipt)).content.decode()
    # then
    assert "Request refund…" not in html
    assert 'id="refunds-group"' not in html


def test_request_page_shows_the_receipt_and_its_booking(client, support):
    # given
    receipt = cancelled_paid_booking_receipt()
    client.force_login(support)
    # when
    response = client.get(_request_url(receipt))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("TLK7REF001", "KES 3,000", receipt.booking.reference, "2547******149"):
        assert text in html
    assert "254708374149" not in html
    assert 'name="recipient_phone"' not in html  # B2C is not configured


def test_request_of_the_whole_receipt_goes_to_the_new_refund(client, support):
    # given
    receipt = cancelled_paid_booking_receipt()
    client.force_login(support)
    # when
    response = client.post(
        _request_url(receipt), {"reason": "cancelled", "amount": ""}, follow=True
    )
    # then
    refund = Refund.objects.get()
    assert response.redirect_chain[-1][0] == _page_url(refund)
    assert (refund.amount, refund.method, refund.requested_by) == (
        3000,
        Refund.Method.REVERSAL,
        support,
    )
    assert f"Refund {refund.pk} requested" in _messages(response)[0]


def test_request_of_part_with_a_recipient_uses_b2c(client, settings, support):
    b2c_settings(settings)
    receipt = paybill_receipt("TLK7REF006", payer_phone="2547 ***** 149")
    client.force_login(support)
    client.post(
        _request_url(receipt),
        {"reason": "overpaid", "amount": "500", "recipient_phone": "0712345678"},
    )
    refund = Refund.objects.get()
    assert (refund.method, refund.recipient_phone) == ("b2c", "254712345678")


def test_request_refused_by_the_rules_stays_on_the_form(client, support):
    # given
    receipt = cancelled_paid_booking_receipt()
    client.force_login(support)
    # when
    over = client.post(_request_url(receipt), {"reason": "cancelled", "amount": "3001"})
    other = client.post(_request_url(receipt), {"reason": "other", "reason_text": ""})
    # then
    assert "KES 3,000 left" in over.context["form"].errors["amount"][0]
    assert over.context["form"].errors["amount"]
    assert "reason_text" in other.context["form"].errors
    assert not Refund.objects.exists()


def test_request_sent_twice_requests_once(client, support):
    receipt = cancelled_paid_booking_receipt()
    client.force_login(support)
    client.post(_request_url(receipt), {"reason": "cancelled"})
    again = client.post(_request_url(receipt), {"reason": "cancelled"})
    assert "KES 0 left" in again.context["form"].errors["amount"][0]
    assert Refund.objects.count() == 1


def test_request_page_needs_request_refund(client):
    receipt = cancelled_paid_booking_receipt()
    client.force_login(_viewer_of_receipts_only())
    assert client.get(_request_url(receipt)).status_code == 403
    assert (
        client.post(_request_url(receipt), {"reason": "cancelled"}).status_code == 403
    )
    assert not Refund.objects.exists()


def test_booking_page_lists_the_bookings_refunds(client, support, finance):
    # given
    refund = _requested(support)
    refund_approve(refund_id=refund.pk, actor=finance)
    client.force_login(finance)
    url = reverse("admin:bookings_booking_change", args=[refund.booking_id])
    # when
    html = client.get(url).content.decode()
    # then
    assert 'id="refunds-group"' in html
    assert f"Refund {refund.pk}" in html
    assert "finance1" in html
    assert "Approved" in html


def test_request_page_says_how_much_is_left_and_needs_a_reason(client, support):
    # given
    receipt = cancelled_paid_booking_receipt()
    _requested(support, receipt=receipt)
    client.force_login(support)
    # when
    shown = client.get(_request_url(receipt)).content.decode()
    unreasoned = client.post(_request_url(receipt), {"reason": ""})
    # then
    assert "Left to refund: KES 0" in shown
    assert "reason" in unreasoned.context["form"].errors
    assert Refund.objects.count() == 1
