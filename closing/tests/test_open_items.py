"""The day's open items: what must be settled before the close, with links."""

from datetime import timedelta

import pytest
from django.urls import reverse

from closing.services.figures import day_figures
from closing.tests.support import (
    DAY,
    on_day,
    paybill_receipt,
    payment_started,
    refund_sent,
    stk_receipt,
)
from payments.models import Refund

pytestmark = pytest.mark.django_db


def test_open_items_list_a_payment_needing_review_with_its_link():
    # given
    payment = payment_started(on_day(10), needs_review=True)
    # when
    items = day_figures(DAY)["open_items"]
    # then
    assert items["needs_review"]["count"] == 1
    assert items["needs_review"]["items"][0]["url"] == reverse(
        "admin:payments_payment_change", args=[payment.pk]
    )


def test_open_items_list_unallocated_money_of_the_day():
    # given
    receipt = paybill_receipt("TLK2UNAL01", amount=900, transacted_at=on_day(11))
    # when
    unallocated = day_figures(DAY)["open_items"]["unallocated"]
    # then
    assert unallocated["count"] == 1
    assert unallocated["amount"] == 900
    assert unallocated["items"][0]["url"] == reverse(
        "admin:payments_mpesareceipt_change", args=[receipt.pk]
    )


def test_open_items_count_a_pending_payment_past_its_lifetime_as_stuck():
    # given: pending since 10:00 on DAY (days before the clock's now)
    payment_started(on_day(10))
    # when
    stuck = day_figures(DAY)["open_items"]["stuck"]
    # then
    assert stuck["count"] == 1


def test_open_items_list_a_refund_of_unknown_outcome():
    # given
    paid = stk_receipt("TLK2RFUNK1", at=on_day(8))
    refund = refund_sent(paid, at=on_day(16), status=Refund.Status.UNKNOWN)
    # when
    unknown = day_figures(DAY)["open_items"]["refunds_unknown"]
    # then
    assert unknown["count"] == 1
    assert unknown["items"][0]["url"] == reverse(
        "admin:payments_refund_change", args=[refund.pk]
    )


def test_open_items_of_another_day_are_not_counted():
    # given
    payment_started(on_day(10, day=DAY - timedelta(days=1)), needs_review=True)
    paybill_receipt("TLK2OTHER1", transacted_at=on_day(10, day=DAY + timedelta(1)))
    # when
    items = day_figures(DAY)["open_items"]
    # then
    assert items["total"] == 0


def test_open_items_total_counts_every_kind():
    # given
    payment_started(on_day(10), needs_review=True)
    payment_started(on_day(11))
    paybill_receipt("TLK2TOTAL1", transacted_at=on_day(12))
    # when
    items = day_figures(DAY)["open_items"]
    # then
    assert items["total"] == 3


def test_open_items_never_show_a_phone_number():
    # given
    payment_started(on_day(10), needs_review=True, phone_number="254708374149")
    paybill_receipt("TLK2PHONE1", transacted_at=on_day(12))
    # when
    text = str(day_figures(DAY)["open_items"])
    # then
    assert "708374149" not in text
