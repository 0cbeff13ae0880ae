"""The receipts ledger in the admin: list, search, masking, detail,
permissions, and the "Unallocated money" actions."""

import hashlib
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from bookings.models import Booking
from bookings.tests.factories import BookingFactory, UserFactory
from payments.models import MpesaReceipt, MpesaReceiptSighting, PaymentEvent
from payments.services.ledger import receipt_sighting
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:payments_mpesareceipt_changelist")
UNALLOCATED_URL = reverse("admin:payments_unallocatedreceipt_changelist")
PHONE = "254708374149"
HASHED = hashlib.sha256(PHONE.encode()).hexdigest()


def _login(client, group: str | None = None, *, full_phone: bool = False):
    user = UserFactory(staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    if full_phone:
        user.user_permissions.add(Permission.objects.get(codename="view_full_phone"))
    client.force_login(user)
    return user


def _found(client, term: str) -> set[str]:
    response = client.get(LIST_URL, {"q": term})
    assert response.status_code == 200
    return {r.receipt_number for r in response.context["cl"].result_list}


def test_receipt_list_shows_the_columns_with_the_payer_masked(client):
    # given
    _login(client, "Support")
    booking = BookingFactory(reference="HYABC234")
    payment = PaymentFactory(booking=booking, completed=True)
    allocated_receipt("NLJ7RT61SV", payment=payment)
    paybill_receipt("TLK3AB12CD", account="hy wrong")

    # when
    response = client.get(LIST_URL)

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "NLJ7RT61SV" in html
    assert "TLK3AB12CD" in html
    assert "KES 3,000" in html
    assert "2547******149" in html
    assert PHONE not in html
    assert f"Booking {booking.pk} · HYABC234" in html
    assert f"Payment {payment.pk}" in html
    assert '<div class="receipt-reason">Unknown account number</div>' in html
    assert "hy wrong" in html


def test_receipt_list_shows_full_numbers_only_with_the_permission(client):
    # given
    _login(client, "Finance", full_phone=True)
    paybill_receipt()

    # when
    html = client.get(LIST_URL).content.decode()

    # then
    assert PHONE in html


def test_receipt_list_shows_a_v1_hash_as_hashed(client):
    # given
    _login(client, "Finance", full_phone=True)
    paybill_receipt(payer_phone=HASHED)

    # when
    html = client.get(LIST_URL).content.decode()

    # then
    assert "hashed" in html
    assert HASHED not in html


@pytest.mark.parametrize(
    "term", ["0708374149", "+254708374149", "254708374149", "0708 374 149"]
)
@pytest.mark.parametrize(
    "stored",
    [PHONE, HASHED, HASHED.upper(), "2547 ***** 149", "25470****149", "0708***149"],
)
def test_search_by_phone_in_any_format_finds_every_stored_form(client, term, stored):
    # given
    _login(client, "Support")
    paybill_receipt("TLK3AB12CD", payer_phone=stored)
    paybill_receipt("TLK3AB99ZZ", payer_phone="254711222333")

    # when / then
    assert _found(client, term) == {"TLK3AB12CD"}


@pytest.mark.parametrize(
    "stored", ["2547 ***** 150", "2541 ***** 149", "254*****149", "2547*****9"]
)
def test_search_by_phone_skips_masks_that_disagree_or_say_too_little(client, stored):
    # given
    _login(client, "Support")
    paybill_receipt("TLK3AB12CD", payer_phone=stored)

    # when / then
    assert _found(client, "0708374149") == set()


def test_search_by_receipt_account_and_booking_reference(client):
    # given
    _login(client, "Support")
    booking = BookingFactory(reference="HYABC234")
    allocated_receipt(
        "NLJ7RT61SV", payment=PaymentFactory(booking=booking, completed=True)
    )
    paybill_receipt("TLK3AB12CD", account="hy-abc 234")
    paybill_receipt("TLK3AB99ZZ", account="Invoice 77")

    # then
    assert _found(client, "nlj7rt61sv") == {"NLJ7RT61SV"}
    assert _found(client, "invoice 77") == {"TLK3AB99ZZ"}
    assert _found(client, "hyabc234") == {"NLJ7RT61SV", "TLK3AB12CD"}


def test_filter_by_source_of_sightings(client):
    # given
    _login(client, "Support")
    paybill_receipt("TLK3AB12CD")
    allocated_receipt("NLJ7RT61SV", payment=PaymentFactory(completed=True))

    # when
    response = client.get(LIST_URL, {"seen_by": "c2b_confirmation"})

    # then
    shown = {r.receipt_number for r in response.context["cl"].result_list}
    assert shown == {"TLK3AB12CD"}


def test_receipt_page_lists_each_sighting_with_a_link_to_its_raw_event(client):
    # given
    _login(client, "Support")
    receipt = paybill_receipt("TLK3AB12CD")
    replay = PaymentEvent.objects.create(kind=PaymentEvent.Kind.C2B_CONFIRMATION)
    receipt_sighting(
        receipt_number="TLK3AB12CD",
        source=MpesaReceiptSighting.Source.C2B_CONFIRMATION,
        event_id=replay.pk,
    )

    # when
    response = client.get(
        reverse("admin:payments_mpesareceipt_change", args=[receipt.pk])
    )

    # then
    html = response.content.decode()
    assert response.status_code == 200
    for sighting in receipt.sightings.all():
        event_url = reverse(
            "admin:payments_paymentevent_change", args=[sighting.event_id]
        )
        assert event_url in html
    sources = re.findall(r'class="field-source">\s*<p>([^<]*)</p>', html)
    assert sources == ["C2B confirmation", "C2B confirmation"]
    assert "2547******149" in html
    assert PHONE not in html


def test_receipts_are_read_only_even_for_superusers(client):
    # given
    user = UserFactory(staff=True, is_superuser=True)
    client.force_login(user)
    receipt = paybill_receipt()

    # when
    add = client.get(reverse("admin:payments_mpesareceipt_add"))
    delete = client.post(
        reverse("admin:payments_mpesareceipt_delete", args=[receipt.pk]),
        {"post": "yes"},
    )
    change = client.post(
        reverse("admin:payments_mpesareceipt_change", args=[receipt.pk]),
        {"amount": 1},
    )

    # then
    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    receipt.refresh_from_db()
    assert receipt.amount == 3000


def test_staff_without_a_group_cannot_see_receipts(client):
    # given
    _login(client)

    # then
    assert client.get(LIST_URL).status_code == 403
    assert client.get(UNALLOCATED_URL).status_code == 403


def test_admin_index_has_its_own_unallocated_money_entry(client):
    # given
    _login(client, "Support")

    # when
    html = client.get(reverse("admin:index")).content.decode()

    # then
    assert UNALLOCATED_URL in html
    assert "Unallocated money" in html
    assert LIST_URL in html


def test_unallocated_view_lists_only_unallocated_money_with_the_reason(client):
    # given
    _login(client, "Support")
    paybill_receipt("TLK3AB12CD", reason=MpesaReceipt.UnallocatedReason.OVERPAID)
    allocated_receipt("NLJ7RT61SV", payment=PaymentFactory(completed=True))

    # when
    response = client.get(UNALLOCATED_URL)

    # then
    shown = {r.receipt_number for r in response.context["cl"].result_list}
    assert shown == {"TLK3AB12CD"}
    assert "More than owed" in response.content.decode()


def test_unallocated_money_naming_its_refund_due_booking_is_listed(client):
    # given: a confirmation for a booking that expired with its slot gone
    _login(client, "Support")
    booking = BookingFactory(expired=True, reference="HYEXP234")
    BookingFactory(advocate=booking.advocate, start=booking.start, confirmed=True)
    receipt = paybill_receipt("TLK3AB12CD", account=booking.reference)
    MpesaReceipt.objects.filter(pk=receipt.pk).update(
        unallocated_reason=MpesaReceipt.UnallocatedReason.BOOKING_NOT_PAYABLE,
        booking=booking,
    )

    # when
    response = client.get(UNALLOCATED_URL)

    # then: listed as unallocated, with the booking it is to be refunded from
    shown = {r.receipt_number for r in response.context["cl"].result_list}
    assert shown == {"TLK3AB12CD"}
    html = response.content.decode()
    assert "Booking not payable" in html
    assert "HYEXP234" in html


def test_finance_allocates_money_naming_a_booking_to_another_booking(client):
    # given: unallocated money that names the expired booking it paid for
    _login(client, "Finance")
    expired = BookingFactory(expired=True)
    receipt = paybill_receipt()
    MpesaReceipt.objects.filter(pk=receipt.pk).update(
        unallocated_reason=MpesaReceipt.UnallocatedReason.BOOKING_NOT_PAYABLE,
        booking=expired,
    )
    rebooked = BookingFactory(amount=3000, start=expired.start.replace(hour=14))

    # when: staff allocate it to the client's new booking
    _action(
        client,
        "allocate_to_booking",
        [receipt],
        apply="1",
        booking_reference=rebooked.reference,
        note="Client rebooked; use the money for the new slot",
    )

    # then
    receipt.refresh_from_db()
    assert (receipt.allocation, receipt.booking_id) == ("allocated", rebooked.pk)
    rebooked.refresh_from_db()
    assert rebooked.payment_status == Booking.PaymentStatus.PAID


def _action(client, action: str, receipts, **form):
    data = {"action": action, "_selected_action": [r.pk for r in receipts], **form}
    return client.post(UNALLOCATED_URL, data, follow=True)


def test_support_sees_unallocated_money_but_cannot_allocate(client):
    # given
    _login(client, "Support")
    receipt = paybill_receipt()
    booking = BookingFactory(amount=3000)

    # when
    page = client.get(UNALLOCATED_URL)
    response = _action(
        client,
        "allocate_to_booking",
        [receipt],
        apply="1",
        booking_reference=booking.reference,
        note="try",
    )

    # then
    assert "allocate_to_booking" not in page.content.decode()
    assert response.status_code == 200
    receipt.refresh_from_db()
    assert receipt.allocation == MpesaReceipt.Allocation.UNALLOCATED
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.UNPAID


def test_finance_allocates_through_the_form(client):
    # given
    staff = _login(client, "Finance")
    receipt = paybill_receipt()
    booking = BookingFactory(amount=3000)

    # when: the action first shows the form, then applies it
    form_page = _action(client, "allocate_to_booking", [receipt])
    response = _action(
        client,
        "allocate_to_booking",
        [receipt],
        apply="1",
        booking_reference=booking.reference.lower(),
        note="Client sent the M-Pesa SMS",
    )

    # then
    assert "Booking reference" in form_page.content.decode()
    assert "TLK3AB12CD" in form_page.content.decode()
    messages = [str(m) for m in response.context["messages"]]
    assert f"allocated to booking {booking.reference}" in messages[0]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.payment_status == Booking.PaymentStatus.PAID
    receipt.refresh_from_db()
    assert receipt.booking_id == booking.pk
    assert receipt.sightings.get(source="staff").event.actor == staff


def test_allocate_refusal_is_shown_on_the_form_and_writes_nothing(client):
    # given
    _login(client, "Finance")
    receipt = paybill_receipt(amount=2000)
    booking = BookingFactory(amount=3000)

    # when
    response = _action(
        client,
        "allocate_to_booking",
        [receipt],
        apply="1",
        booking_reference=booking.reference,
        note="Client called",
    )

    # then
    html = response.content.decode()
    assert f"Booking {booking.reference} owes KES 3,000" in html
    assert 'name="booking_reference"' in html
    receipt.refresh_from_db()
    assert receipt.allocation == MpesaReceipt.Allocation.UNALLOCATED
    assert not PaymentEvent.objects.filter(kind=PaymentEvent.Kind.STAFF_ACTION)


def test_allocate_takes_one_receipt_at_a_time(client):
    # given
    _login(client, "Finance")
    receipts = [paybill_receipt("TLK3AB12CD"), paybill_receipt("TLK3AB99ZZ")]

    # when
    response = _action(client, "allocate_to_booking", receipts)

    # then
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Allocate one receipt at a time: select exactly one."]


def test_finance_marks_for_refund_through_the_form(client):
    # given
    staff = _login(client, "Finance")
    receipt = paybill_receipt()

    # when
    response = _action(
        client, "mark_for_refund", [receipt], apply="1", note="Paid the wrong shop"
    )

    # then
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Receipt TLK3AB12CD marked for refund."]
    receipt.refresh_from_db()
    assert receipt.refund_marked_by == staff
    page = client.get(reverse("admin:payments_mpesareceipt_change", args=[receipt.pk]))
    assert "Paid the wrong shop" in page.content.decode()
    assert f"by {staff.username}" in page.content.decode()


def test_receipts_list_links_the_receipt_pending_payments(client):
    # given: one payment completed by a query (no receipt), one with one
    _login(client, "Support")
    PaymentFactory(completed=True, mpesa_receipt_number=None, amount=2500)
    PaymentFactory(completed=True)

    # when
    html = client.get(LIST_URL).content.decode()

    # then
    assert "1 completed payment, KES 2,500" in html
    assert reverse("admin:payments_payment_changelist") + "?receipt=pending" in html


@pytest.mark.parametrize("url", [LIST_URL, UNALLOCATED_URL])
def test_receipt_lists_hide_the_receipt_pending_banner_at_zero(client, url):
    # given: every completed payment has its receipt
    _login(client, "Support")
    PaymentFactory(completed=True)

    # when
    html = client.get(url).content.decode()

    # then
    assert "Receipt pending" not in html
    assert "0 completed payments" not in html


def test_unallocated_list_shows_the_receipt_pending_banner_when_some(client):
    # given
    _login(client, "Support")
    PaymentFactory(completed=True, mpesa_receipt_number=None, amount=2500)

    # when
    html = client.get(UNALLOCATED_URL).content.decode()

    # then
    assert "1 completed payment, KES 2,500" in html


def test_reconciliation_page_hides_the_receipt_pending_count_at_zero(client):
    # given
    _login(client, "Support")
    PaymentFactory(completed=True)
    url = reverse("admin:payments_payment_reconciliation")

    # when
    html = client.get(url).content.decode()

    # then: the column is explained, no "0 now, KES 0" link
    assert "?receipt=pending" not in html
    assert "0 now, KES 0" not in html


def test_reconciliation_page_links_the_receipt_pending_payments_when_some(client):
    # given
    _login(client, "Support")
    PaymentFactory(completed=True, mpesa_receipt_number=None, amount=2500)
    url = reverse("admin:payments_payment_reconciliation")

    # when
    html = client.get(url).content.decode()

    # then
    assert "?receipt=pending" in html
    assert "1 now, KES 2,500" in html
