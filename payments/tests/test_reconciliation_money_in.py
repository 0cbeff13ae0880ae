"""Money in per channel per Nairobi day, and "receipt pending"."""

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from bookings.tests.factories import UserFactory
from payments.models import MpesaReceipt
from payments.reporting import money_in_per_day, receipt_pending_total
from payments.selectors import payments_receipt_pending
from payments.tests.factories import PaymentFactory
from payments.tests.ledger_support import allocated_receipt, paybill_receipt

pytestmark = pytest.mark.django_db
PAGE = reverse("admin:payments_payment_reconciliation")
PAYMENTS = reverse("admin:payments_payment_changelist")
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 09:00 in Nairobi
Channel = MpesaReceipt.Channel


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def _day(rows, day: date):
    return next(row for row in rows if row.day == day)


def test_money_in_sums_each_channel_per_nairobi_day(now):
    # given
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    allocated_receipt(
        "NLJ7RT61SV", payment=PaymentFactory(completed=True), transacted_at=at
    )
    paybill_receipt("TLK3AB12CD", amount=1500, transacted_at=at)
    paybill_receipt("TLK3AB13CD", amount=500, transacted_at=at)
    paybill_receipt("TLK3AB14CD", amount=700, channel=Channel.TILL, transacted_at=at)
    PaymentFactory(
        completed=True, mpesa_receipt_number=None, amount=2000, transaction_date=at
    )

    # when
    rows = money_in_per_day(first_day=date(2026, 11, 30), last_day=date(2026, 12, 2))

    # then
    assert [row.day for row in rows] == [
        date(2026, 12, 2),
        date(2026, 12, 1),
        date(2026, 11, 30),
    ]
    day = _day(rows, date(2026, 12, 1))
    assert (day.stk, day.paybill, day.till) == (3000, 2000, 700)
    assert day.receipt_pending == 2000
    assert day.unallocated == 2700  # the paybill and till money: no booking took it
    assert day.total == 7700
    assert _day(rows, date(2026, 12, 2)).total == 0


def test_money_in_puts_23_30_utc_on_the_next_nairobi_day(now):
    # given: 23:30 UTC on 30 Nov is 02:30 on 1 Dec in Nairobi
    paybill_receipt(
        "TLK3AB12CD", transacted_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    )
    paybill_receipt(
        "TLK3AB13CD",
        amount=100,
        transacted_at=datetime(2026, 11, 30, 20, 59, tzinfo=UTC),
    )

    # when
    rows = money_in_per_day(first_day=date(2026, 11, 30), last_day=date(2026, 12, 1))

    # then
    assert _day(rows, date(2026, 12, 1)).paybill == 3000
    assert _day(rows, date(2026, 11, 30)).paybill == 100


def test_money_in_falls_back_to_when_we_recorded_the_receipt(time_machine):
    # given: no transaction time, recorded at 22:00 UTC (01:00 in Nairobi)
    time_machine.move_to(datetime(2026, 11, 30, 22, 0, tzinfo=UTC), tick=False)
    paybill_receipt("TLK3AB12CD", transacted_at=None)
    time_machine.move_to(NOW, tick=False)

    # when
    rows = money_in_per_day(first_day=date(2026, 11, 30), last_day=date(2026, 12, 1))

    # then
    assert _day(rows, date(2026, 12, 1)).paybill == 3000
    assert _day(rows, date(2026, 11, 30)).paybill == 0


def test_money_in_leaves_out_money_going_out_and_other_days(now):
    # given
    paybill_receipt(
        "TLK3AB12CD", transacted_at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    )
    out = paybill_receipt(
        "TLK3AB13CD", transacted_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    )
    MpesaReceipt.objects.filter(pk=out.pk).update(
        direction=MpesaReceipt.Direction.OUT, channel=Channel.B2C
    )

    # when
    rows = money_in_per_day(first_day=date(2026, 11, 30), last_day=date(2026, 12, 1))

    # then
    assert sum(row.total for row in rows) == 0


def test_receipt_pending_lists_completed_payments_without_a_receipt():
    # given
    pending = PaymentFactory(completed=True, mpesa_receipt_number=None, amount=2500)
    PaymentFactory(completed=True)  # its receipt is known
    PaymentFactory(mpesa_receipt_number=None)  # not completed
    supplied_later = PaymentFactory(completed=True, mpesa_receipt_number=None)
    allocated_receipt("NLJ7RT61SV", payment=supplied_later)

    # when
    found = list(payments_receipt_pending())

    # then
    assert found == [pending]
    assert receipt_pending_total().count == 1
    assert receipt_pending_total().amount == 2500


def _login(client, group: str = "Finance"):
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)


def test_payments_list_filters_receipt_pending(client):
    # given
    _login(client, "Support")
    pending = PaymentFactory(completed=True, mpesa_receipt_number=None)
    PaymentFactory(completed=True)

    # when
    response = client.get(PAYMENTS, {"receipt": "pending"})

    # then
    assert list(response.context["cl"].result_list) == [pending]
    assert "Pending (completed, receipt not known yet)" in response.content.decode()


def test_reconciliation_page_shows_the_last_14_days_of_money_in(client, now):
    # given
    _login(client)
    paybill_receipt(
        "TLK3AB12CD", transacted_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    )
    PaymentFactory(completed=True, mpesa_receipt_number=None, amount=2000)

    # when
    response = client.get(PAGE)

    # then
    html = response.content.decode()
    rows = response.context["money_rows"]
    assert len(rows) == 14
    assert rows[0].day == date(2026, 12, 2)
    assert rows[-1].day == date(2026, 11, 19)
    assert _day(rows, date(2026, 12, 1)).paybill == 3000
    assert response.context["money_totals"]["total"] == 5000
    assert "Money in per channel per day" in html
    assert f"{PAYMENTS}?receipt=pending" in html
    assert reverse("admin:payments_unallocatedreceipt_changelist") in html


def test_reconciliation_page_takes_a_day_range(client, now):
    # given
    _login(client)

    # when
    response = client.get(PAGE, {"from": "2026-11-01", "to": "2026-11-03"})

    # then
    days = [row.day for row in response.context["money_rows"]]
    assert days == [date(2026, 11, 3), date(2026, 11, 2), date(2026, 11, 1)]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-11-05", "2026-11-01"),
        ("yesterday", ""),
        ("2026-01-01", "2026-12-01"),
        ("2026-12-01", "2026-12-31"),
    ],
)
def test_reconciliation_page_refuses_an_unusable_range(client, now, first, last):
    # given
    _login(client)

    # when
    response = client.get(PAGE, {"from": first, "to": last})

    # then
    assert response.status_code == 200
    assert len(response.context["money_rows"]) == 14
    messages = [str(m) for m in response.context["messages"]]
    assert messages[0].startswith("Enter the money-in range as YYYY-MM-DD")
