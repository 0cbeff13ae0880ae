"""``day_figures``: money in per channel by Nairobi day, refunds, fees,
M-Pesa's record of the day and the differences."""

from datetime import timedelta

import pytest

from closing.services.figures import day_figures
from closing.tests.support import (
    DAY,
    import_statement,
    on_day,
    paybill_receipt,
    refund_sent,
    statement_files,
    statement_time,
    stk_receipt,
)
from payments.models import Refund

pytestmark = pytest.mark.django_db


def test_day_figures_count_a_receipt_at_2359_nairobi_on_that_day():
    # given: 23:59 on DAY and 00:01 the next day, Nairobi time
    stk_receipt("TLK1LATE01", at=on_day(23, 59))
    stk_receipt("TLK1EARLY1", at=on_day(0, 1, day=DAY + timedelta(days=1)))
    # when
    figures = day_figures(DAY)
    # then
    assert figures["money_in"]["stk"] == {"count": 1, "amount": 3000}


def test_day_figures_count_a_receipt_at_0001_nairobi_on_the_next_day():
    # given: 00:01 in Nairobi is still the previous day in UTC
    stk_receipt("TLK1EARLY2", at=on_day(0, 1, day=DAY + timedelta(days=1)))
    # when
    figures = day_figures(DAY + timedelta(days=1))
    # then
    assert figures["money_in"]["stk"] == {"count": 1, "amount": 3000}
    assert day_figures(DAY)["money_in"]["total"]["count"] == 0


def test_day_figures_split_money_in_per_channel_with_a_total():
    # given
    stk_receipt("TLK1STK001", at=on_day(9), amount=2000)
    paybill_receipt("TLK1PB0001", amount=1500, transacted_at=on_day(10))
    paybill_receipt("TLK1TILL01", amount=700, transacted_at=on_day(11), channel="till")
    # when
    money = day_figures(DAY)["money_in"]
    # then
    assert money["stk"] == {"count": 1, "amount": 2000}
    assert money["paybill"] == {"count": 1, "amount": 1500}
    assert money["till"] == {"count": 1, "amount": 700}
    assert money["total"] == {"count": 3, "amount": 4200}


def test_day_figures_count_refunds_out_from_the_ledger():
    # given
    paid = stk_receipt("TLK1PAID01", at=on_day(8))
    refund_sent(
        paid, at=on_day(15), status=Refund.Status.COMPLETED, number="TLK1REV001"
    )
    # when
    figures = day_figures(DAY)
    # then
    assert figures["refunds_out"] == {"count": 1, "amount": 3000}
    assert figures["money_in"]["total"]["amount"] == 3000


def test_day_figures_without_a_statement_have_no_statement_and_no_differences():
    # given
    stk_receipt("TLK1NOST01", at=on_day(9))
    # when
    figures = day_figures(DAY)
    # then
    assert figures["statement"] is None
    assert figures["differences"] == {
        "money_in": None,
        "money_in_count": None,
        "refunds_out": None,
    }
    assert figures["fees"] == {"count": 0, "amount": 0}


def test_day_figures_take_fees_from_the_statements_charge_rows():
    # given
    stk_receipt("TLK1FEE001", at=on_day(9))
    import_statement(
        statement_files.paid_in(
            "TLK1FEE001", "3,000.00", time=statement_time(on_day(9))
        ),
        statement_files.withdrawn(
            "TLK1CHG001",
            "-30.00",
            reason="Business Pay Bill Charge",
            time=statement_time(on_day(9, 1)),
        ),
    )
    # when
    figures = day_figures(DAY)
    # then
    assert figures["fees"] == {"count": 1, "amount": 30}
    assert figures["statement"]["withdrawn"] == {"count": 1, "amount": 30}


def test_day_figures_show_the_statement_totals_and_a_zero_difference():
    # given: the ledger and M-Pesa agree
    stk_receipt("TLK1AGREE1", at=on_day(9))
    import_statement(
        statement_files.paid_in("TLK1AGREE1", time=statement_time(on_day(9)))
    )
    # when
    figures = day_figures(DAY)
    # then
    assert figures["statement"]["covered"] is True
    assert figures["statement"]["sources"] == ["statement"]
    assert figures["statement"]["paid_in"] == {"count": 1, "amount": 3000}
    assert figures["differences"]["money_in"] == 0
    assert figures["differences"]["money_in_count"] == 0


def test_day_figures_show_ledger_money_the_statement_lacks_as_a_difference():
    # given: a receipt M-Pesa does not show (a forged callback)
    stk_receipt("TLK1SHOWN1", at=on_day(9))
    stk_receipt("TLK1FORGED", at=on_day(10), amount=1200)
    import_statement(
        statement_files.paid_in("TLK1SHOWN1", time=statement_time(on_day(9)))
    )
    # when
    differences = day_figures(DAY)["differences"]
    # then
    assert differences["money_in"] == 1200
    assert differences["money_in_count"] == 1


def test_day_figures_compare_refunds_out_with_the_statement():
    # given: a refund the ledger holds, none on the statement
    paid = stk_receipt("TLK1RFPAID", at=on_day(8))
    refund_sent(
        paid, at=on_day(15), status=Refund.Status.COMPLETED, number="TLK1RFOUT1"
    )
    import_statement(
        statement_files.paid_in("TLK1RFPAID", time=statement_time(on_day(8)))
    )
    # when
    differences = day_figures(DAY)["differences"]
    # then
    assert differences["refunds_out"] == 3000


def test_day_figures_give_no_differences_for_a_statement_of_half_the_day():
    # given: a statement from noon only
    stk_receipt("TLK1HALF01", at=on_day(13))
    import_statement(
        statement_files.paid_in("TLK1HALF01", time=statement_time(on_day(13))),
        whole_day=False,
    )
    # when
    figures = day_figures(DAY)
    # then
    assert figures["statement"]["covered"] is False
    assert figures["differences"]["money_in"] is None


def test_day_figures_are_whole_kes_integers():
    # given
    stk_receipt("TLK1INT001", at=on_day(9))
    # when
    money = day_figures(DAY)["money_in"]["total"]
    # then
    assert type(money["amount"]) is int


def test_day_figures_do_not_count_rows_that_did_not_complete():
    # given
    stk_receipt("TLK1DONE01", at=on_day(9))
    import_statement(
        statement_files.paid_in("TLK1DONE01", time=statement_time(on_day(9))),
        statement_files.paid_in(
            "TLK1FAIL01", status="Failed", time=statement_time(on_day(10))
        ),
    )
    # when
    statement = day_figures(DAY)["statement"]
    # then
    assert statement["paid_in"] == {"count": 1, "amount": 3000}
    assert statement["not_counted"] == 1
