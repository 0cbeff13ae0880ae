"""Admin: the payment page, the event log, the booking inline, the
reconciliation page and the staff groups."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from bookings.tests.factories import UserFactory
from core.time import NAIROBI
from payments.models import Payment, PaymentEvent
from payments.reporting import nairobi_day_start, payment_status_counts
from payments.tests.factories import PaymentEventFactory, PaymentFactory
from payments.tests.payloads import failure_callback

pytestmark = pytest.mark.django_db
Status = Payment.Status


def _login(client, group: str = "Support"):
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def _page(payment: Payment) -> str:
    return reverse("admin:payments_payment_change", args=[payment.pk])


def test_staff_groups_have_their_permissions():
    # when
    finance = set(
        Group.objects.get(name="Finance").permissions.values_list("codename", flat=True)
    )
    support = set(
        Group.objects.get(name="Support").permissions.values_list("codename", flat=True)
    )

    # then
    assert {"view_payment", "requery_payment", "resolve_payment"} <= finance
    assert "export_payment" in finance
    assert {
        "view_payment",
        "view_paymentevent",
        "requery_payment",
        "view_booking",
        "view_mpesareceipt",
        "view_mpesareceiptsighting",
        "view_refund",
        "request_refund",
        "view_transactionstatuscheck",
        "verify_receipt",
    } == support
    assert {"view_booking", "change_booking"} <= finance
    assert {"view_refund", "request_refund", "approve_refund"} <= finance
    # Above REFUND_APPROVAL_LIMIT: granted to named people, never a group.
    assert "approve_large_refund" not in finance | support


def test_payment_page_is_read_only_for_everyone(client):
    # given
    user = _login(client, "Finance")
    user.is_superuser = True
    user.save()
    payment = PaymentFactory(completed=True)

    # when
    response = client.get(_page(payment))
    posted = client.post(_page(payment), {"amount": 1, "status": "failed"})

    # then
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="amount"' not in response.content.decode()
    assert posted.status_code == 403
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED


def test_payment_admin_has_no_add_or_delete(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory()

    # when
    add = client.get(reverse("admin:payments_payment_add"))
    delete = client.post(
        reverse("admin:payments_payment_delete", args=[payment.pk]), {"post": "yes"}
    )

    # then
    assert add.status_code == 403
    assert delete.status_code == 403
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_payment_page_shows_identifiers_and_masked_phone(client):
    # given
    _login(client)
    payment = PaymentFactory(completed=True, phone_number="254712345678")

    # when
    html = client.get(_page(payment)).content.decode()

    # then
    assert payment.checkout_request_id in html
    assert payment.merchant_request_id in html
    assert payment.mpesa_receipt_number in html
    assert "2547******678" in html
    assert "254712345678" not in html


def test_payment_page_lists_events_newest_first_with_pretty_json(client):
    # given
    _login(client)
    payment = PaymentFactory()
    PaymentEventFactory(payment=payment, reason="older event")
    PaymentEventFactory(
        payment=payment,
        kind=PaymentEvent.Kind.CALLBACK,
        reason="newer event",
        request_body={"Body": {"stkCallback": {"ResultCode": 0}}},
    )

    # when
    html = client.get(_page(payment)).content.decode()

    # then
    assert html.index("newer event") < html.index("older event")
    assert "&quot;Body&quot;: {\n" in html
    assert "    &quot;stkCallback&quot;: {\n" in html


def test_payment_page_links_booking_and_its_other_payments(client):
    # given
    _login(client)
    earlier = PaymentFactory(failed=True)
    payment = PaymentFactory(booking=earlier.booking)

    # when
    html = client.get(_page(payment)).content.decode()

    # then
    booking_url = reverse("admin:bookings_booking_change", args=[payment.booking_id])
    assert f'href="{booking_url}"' in html
    assert f'href="{_page(earlier)}">Payment {earlier.pk}</a>' in html


def test_event_admin_is_read_only(client):
    # given
    user = _login(client, "Finance")
    user.is_superuser = True
    user.save()
    event = PaymentEventFactory(reason="keep me")

    # when
    listing = client.get(reverse("admin:payments_paymentevent_changelist"))
    add = client.get(reverse("admin:payments_paymentevent_add"))
    change = client.post(
        reverse("admin:payments_paymentevent_change", args=[event.pk]),
        {"reason": "changed"},
    )
    delete = client.post(
        reverse("admin:payments_paymentevent_delete", args=[event.pk]), {"post": "yes"}
    )

    # then
    assert listing.status_code == 200
    assert (add.status_code, change.status_code, delete.status_code) == (403,) * 3
    event.refresh_from_db()
    assert event.reason == "keep me"


def test_booking_page_shows_its_payments_inline(client):
    # given: Finance may view bookings, not full phone numbers
    _login(client, "Finance")
    payment = PaymentFactory(completed=True, phone_number="254712345678")

    # when
    url = reverse("admin:bookings_booking_change", args=[payment.booking_id])
    html = client.get(url).content.decode()

    # then
    assert f">Payment {payment.pk}</a>" in html
    assert payment.mpesa_receipt_number in html
    assert "2547******678" in html


def test_changelist_links_reconciliation_page(client):
    # given
    _login(client)

    # when
    html = client.get(reverse("admin:payments_payment_changelist")).content.decode()

    # then
    assert reverse("admin:payments_payment_reconciliation") in html


def test_reconciliation_page_counts_and_cases(client, settings):
    # given
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    _login(client)
    PaymentFactory(completed=True)
    stuck = PaymentFactory()
    old = timezone.now() - timedelta(days=3)
    Payment.objects.filter(pk=stuck.pk).update(created_at=old, accepted_at=old)
    review = PaymentFactory(needs_review=True)
    PaymentEventFactory(
        payment=review,
        kind=PaymentEvent.Kind.STATUS_CHANGE,
        to_status=Status.NEEDS_REVIEW,
        reason="paid amount differs from the amount asked",
    )
    PaymentFactory(failed=True)
    PaymentFactory(failed=True, result_code="1")

    # when
    response = client.get(reverse("admin:payments_payment_reconciliation"))

    # then
    assert response.status_code == 200
    rows = {r["status"]: (r["day"], r["week"]) for r in response.context["status_rows"]}
    assert rows["completed"] == (1, 1)
    assert rows["pending"] == (0, 1)
    assert rows["failed"] == (2, 2)
    assert [r["payment"].pk for r in response.context["stuck"]] == [stuck.pk]
    review_row = response.context["needs_review"][0]
    assert review_row["reason"] == "paid amount differs from the amount asked"
    reasons = {r.result_code: r.count for r in response.context["failure_reasons"]}
    assert reasons == {"1032": 1, "1": 1}


def test_reconciliation_page_needs_view_permission(client):
    # given
    client.force_login(UserFactory(staff=True))

    # when
    response = client.get(reverse("admin:payments_payment_reconciliation"))

    # then
    assert response.status_code == 403


def test_nairobi_day_starts_at_local_midnight():
    # given: 00:30 in Nairobi is still the previous day in UTC
    now = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)

    # when
    today = nairobi_day_start(now=now)
    week = nairobi_day_start(days_ago=6, now=now)

    # then
    assert today == datetime(2026, 12, 1, tzinfo=NAIROBI)
    assert week == datetime(2026, 11, 25, tzinfo=NAIROBI)


def test_status_counts_use_nairobi_days(time_machine):
    # given: a payment at 23:30 UTC, which is 02:30 the next day in Nairobi
    time_machine.move_to(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), tick=False)
    PaymentFactory()
    time_machine.move_to(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), tick=False)

    # when
    counts = payment_status_counts(since=nairobi_day_start())

    # then
    assert counts["pending"] == 1
    assert counts["completed"] == 0


def test_support_reads_a_payments_history_without_the_callback_secret(
    client, settings, tmp_path
):
    # given: a push really sent (Daraja replaced at its HTTP boundary)
    import responses

    from bookings.tests.factories import BookingFactory
    from payments.services.initiation import payment_initiate
    from payments.tests.daraja.support import (
        PUSH_URL,
        add_token,
        isolated_cache,
        load,
        make_client,
    )

    secret = "Support-must-never-see-this-0123456789"
    settings.MPESA_CALLBACK_SECRET = secret
    settings.MPESA_CALLBACK_URL = (
        f"https://api.hakiyetu.co.ke/api/payment/callback/{secret}"
    )
    daraja = make_client(
        isolated_cache(tmp_path), callback_url=settings.MPESA_CALLBACK_URL
    )
    booking = BookingFactory(amount=3000)
    with responses.RequestsMock() as rsps:
        add_token(rsps)
        rsps.post(PUSH_URL, json=load("stk_push_accepted"))
        answer = payment_initiate(
            user=booking.client,
            booking_id=booking.pk,
            phone_number="0708374149",
            client=daraja,
        )
    _login(client, "Support")
    # when
    html = client.get(_page(Payment.objects.get(pk=answer.payment_id))).content.decode()
    # then: the URL is there, its secret is not
    assert "api.hakiyetu.co.ke/api/payment/callback/" in html
    assert secret not in html


def test_payment_pages_write_amounts_as_kes(client, settings):
    # given: a stuck payment, so the reconciliation page lists it too
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    _login(client, "Finance")
    payment = PaymentFactory(completed=True, booking__amount=3000)
    stuck = PaymentFactory(booking__amount=12500)
    old = timezone.now() - timedelta(hours=1)
    Payment.objects.filter(pk=stuck.pk).update(created_at=old, accepted_at=old)

    # when
    listed = client.get(reverse("admin:payments_payment_changelist"))
    page = client.get(_page(payment))
    reconciliation = client.get(reverse("admin:payments_payment_reconciliation"))

    # then
    assert "KES 3,000" in listed.content.decode()
    assert "KES 12,500" in listed.content.decode()
    assert page.content.decode().count("KES 3,000") >= 2  # asked and paid
    assert "KES 12,500" in reconciliation.content.decode()


def test_booking_admin_writes_amounts_as_kes(client):
    # given
    _login(client, "Finance")
    payment = PaymentFactory(booking__amount=3000)

    # when
    listed = client.get(reverse("admin:bookings_booking_changelist"))
    page = client.get(
        reverse("admin:bookings_booking_change", args=[payment.booking_id])
    )

    # then
    assert "KES 3,000" in listed.content.decode()
    assert page.content.decode().count("KES 3,000") >= 2  # booking and inline


def test_event_title_uses_nairobi_time(time_machine):
    # given: 10:00 UTC is 13:00 in Nairobi
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), tick=False)
    event = PaymentEventFactory(kind=PaymentEvent.Kind.NOTE)

    # when / then
    assert str(event) == "Note 2026-12-01 13:00:00"


def test_first_event_reads_from_nothing_to_initiated(client):
    # given
    _login(client)
    payment = PaymentFactory(initiated=True)
    PaymentEventFactory(
        payment=payment,
        kind=PaymentEvent.Kind.STATUS_CHANGE,
        from_status="",
        to_status=Status.INITIATED,
    )

    # when
    html = client.get(_page(payment)).content.decode()

    # then
    assert "— → initiated" in html
    assert "? → initiated" not in html


RECONCILIATION_URL = reverse("admin:payments_payment_reconciliation")


def _created_at(payment: Payment, when: datetime) -> None:
    Payment.objects.filter(pk=payment.pk).update(created_at=when)


def test_reconciliation_page_shows_kes_totals_beside_counts(client):
    # given
    _login(client, "Finance")
    PaymentFactory.create_batch(2, completed=True, booking__amount=3000)
    PaymentFactory(booking__amount=12500)

    # when
    response = client.get(RECONCILIATION_URL)

    # then
    rows = {r["status"]: r for r in response.context["status_rows"]}
    assert (rows["completed"]["day"], rows["completed"]["day_amount"]) == (2, 6000)
    assert (rows["pending"]["week"], rows["pending"]["week_amount"]) == (1, 12500)
    html = response.content.decode()
    assert "KES 6,000" in html
    assert "KES 18,500" in html  # the day's total


def test_reconciliation_page_shows_the_nairobi_day_asked_for(client, time_machine):
    # given: 22:30 UTC on 19 November is 01:30 on the 20th in Nairobi
    time_machine.move_to(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), tick=False)
    _login(client, "Finance")
    on_the_20th = PaymentFactory(completed=True)
    _created_at(on_the_20th, datetime(2026, 11, 19, 22, 30, tzinfo=UTC))
    on_the_19th = PaymentFactory(failed=True)
    _created_at(on_the_19th, datetime(2026, 11, 19, 20, 30, tzinfo=UTC))
    PaymentFactory()  # today

    # when
    response = client.get(RECONCILIATION_URL, {"day": "2026-11-20"})

    # then
    assert response.status_code == 200
    rows = {r["status"]: r for r in response.context["status_rows"]}
    assert rows["completed"]["day"] == 1
    assert rows["pending"]["day"] == 0
    assert (rows["failed"]["day"], rows["failed"]["week"]) == (0, 1)
    assert response.context["day"] == datetime(2026, 11, 20, tzinfo=NAIROBI)


@pytest.mark.parametrize(
    "day", ["2026-13-45", "yesterday", "0001-01-01", "9999-12-31", "2026-12-02"]
)
def test_reconciliation_page_refuses_a_bad_day_and_shows_today(
    client, time_machine, day
):
    # given
    time_machine.move_to(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), tick=False)
    _login(client, "Finance")
    PaymentFactory()

    # when
    response = client.get(RECONCILIATION_URL, {"day": day})

    # then
    assert response.status_code == 200
    assert response.context["day"] == datetime(2026, 12, 1, tzinfo=NAIROBI)
    messages = [str(m) for m in response.context["messages"]]
    assert any("YYYY-MM-DD" in m for m in messages)


def test_reconciliation_page_keeps_links_out_of_the_headers(client):
    # given: links inside a header take its colour and cannot be seen
    _login(client, "Finance")
    PaymentFactory(failed=True)

    # when
    html = client.get(RECONCILIATION_URL).content.decode()

    # then
    headers = re.findall(r"<h2[^>]*>.*?</h2>", html, flags=re.S)
    assert headers
    assert not [h for h in headers if "<a " in h]
    assert "?stuck=yes" in html


def test_reconciliation_page_counts_failures_reported_after_completion(client):
    # given: a completed payment, then a failure callback for it
    _login(client, "Finance")
    payment = PaymentFactory(completed=True)
    client.generic(
        "POST",
        "/api/payment/callback/test-callback-secret-0123456789",
        json.dumps(failure_callback(payment.checkout_request_id)).encode(),
        content_type="application/json",
    )
    PaymentFactory(needs_review=True, review_code="amount_mismatch")
    # when
    html = client.get(reverse("admin:payments_payment_reconciliation")).content.decode()
    # then
    table = html.split('id="review-reasons"')[1].split("</table>")[0]
    assert "Failure reported after completion</a></td>\n        <td>1</td>" in table
    assert "Paid amount differs</a></td>\n        <td>1</td>" in table
    assert "review_code__exact=failure_after_completion" in table


def test_a_history_row_stored_with_the_secret_is_shown_without_it(client, settings):
    # given: an exchange stored before secrets were stripped on the way in
    secret = "Old-row-secret-must-stay-hidden-0123456789"
    settings.MPESA_CALLBACK_SECRET = secret
    payment = PaymentFactory()
    PaymentEvent.objects.create(
        payment=payment,
        kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
        operation="stk_push",
        request_body={
            "CallBackURL": f"https://api.hakiyetu.co.ke/api/payment/callback/{secret}"
        },
        error=f"POST https://api.hakiyetu.co.ke/api/payment/callback/{secret} failed",
    )
    _login(client, "Support")
    # when
    html = client.get(_page(payment)).content.decode()
    # then: the row is raw, the page is not
    assert "api.hakiyetu.co.ke/api/payment/callback/***" in html
    assert secret not in html
    stored = PaymentEvent.objects.get(kind=PaymentEvent.Kind.DARAJA_EXCHANGE)
    assert secret in stored.request_body["CallBackURL"]
