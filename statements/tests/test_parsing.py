"""The statement parser, on files the tests build (CSV and XLSX)."""

import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from core.time import NAIROBI
from statements.parsing import StatementFormatError, parse_statement
from statements.tests import support


@pytest.mark.parametrize("build", [support.csv_file, support.xlsx_file])
def test_parse_statement_reads_the_header_block(build):
    # given
    data = build([support.paid_in("TLK1AB2CD3")])
    # when
    header = parse_statement(data, "statement").header
    # then
    assert header.account_holder == "Haki Yetu Legal Ltd"
    assert header.short_code == "600123"
    assert header.period_start == datetime(2026, 12, 1, tzinfo=NAIROBI)
    assert header.period_end == datetime(2026, 12, 3, 23, 59, 59, tzinfo=NAIROBI)
    assert header.opening_balance == 10000
    assert header.closing_balance == 13000
    assert header.total_paid_in == 3000


@pytest.mark.parametrize("build", [support.csv_file, support.xlsx_file])
def test_parse_statement_reads_rows_with_thousands_separators(build):
    # given
    data = build([support.paid_in("tlk1ab2cd3", "1,234,000.00", account="HYABC234")])
    # when
    row = parse_statement(data, "s").rows[0]
    # then
    assert row.receipt_number == "TLK1AB2CD3"
    assert row.paid_in == 1234000
    assert row.withdrawn == 0
    assert row.balance == 13000
    assert row.account_number == "HYABC234"
    assert row.reason_type == "Pay Utility"
    assert row.completion_time == datetime(2026, 12, 2, 10, 0, 5, tzinfo=NAIROBI)
    assert row.is_completed is True


def test_parse_statement_reads_a_negative_withdrawal_as_money_out():
    # given
    data = support.csv_file([support.withdrawn("TLK9ZZ9ZZ9", "-1,500.00")])
    # when
    row = parse_statement(data, "s.csv").rows[0]
    # then
    assert (row.withdrawn, row.paid_in, row.direction) == (1500, 0, "out")


def test_parse_statement_reads_iso_times_in_nairobi():
    # given
    data = support.csv_file([support.paid_in("TLK1AB2CD3", time="2026-12-02T10:00:05")])
    # when
    row = parse_statement(data, "s.csv").rows[0]
    # then
    assert row.completion_time == datetime(2026, 12, 2, 10, 0, 5, tzinfo=NAIROBI)


def test_parse_statement_reads_real_datetime_cells_in_xlsx():
    # given: Excel holds times as datetimes, amounts as numbers
    workbook = Workbook()
    sheet = workbook.active
    for line in support.header_block():
        sheet.append(line)
    sheet.append(
        ["Receipt No.", "Completion Time", "Transaction Status", "Paid In", "Withdrawn"]
    )
    sheet.append(
        [
            "TLK1AB2CD3",
            datetime(2026, 12, 2, 10, 0, 5),  # noqa: DTZ001 (Excel cells are naive)
            "Completed",
            3000.0,
            None,
        ]
    )
    out = io.BytesIO()
    workbook.save(out)
    # when
    row = parse_statement(out.getvalue(), "s.xlsx").rows[0]
    # then
    assert row.paid_in == 3000
    assert row.completion_time == datetime(2026, 12, 2, 10, 0, 5, tzinfo=NAIROBI)


def test_parse_statement_tolerates_missing_optional_columns_and_keeps_unknown_ones():
    # given
    columns = [
        "Completion Time",
        "Receipt No.",
        "Transaction Status",
        "Paid In",
        "Withdrawn",
        "Till",
    ]
    row = {**support.paid_in("TLK1AB2CD3"), "Till": "T-1"}
    data = support.csv_file([row], columns=columns)
    # when
    parsed = parse_statement(data, "s.csv").rows[0]
    # then
    assert parsed.raw["Till"] == "T-1"
    assert parsed.account_number == ""
    assert parsed.balance is None
    assert parsed.paid_in == 3000


def test_parse_statement_keeps_cents_raw_and_says_why():
    # given
    data = support.csv_file([support.paid_in("TLK1AB2CD3", "3,000.50")])
    # when
    row = parse_statement(data, "s.csv").rows[0]
    # then
    assert row.paid_in == 0
    assert "not whole shillings" in row.amount_problem
    assert row.raw["Paid In"] == "3,000.50"


def test_parse_statement_without_time_period_takes_the_rows_times():
    # given
    data = support.csv_file([support.paid_in("TLK1AB2CD3")], block=[])
    # when
    header = parse_statement(data, "s.csv").header
    # then
    assert header.period_start == datetime(2026, 12, 2, 10, 0, 5, tzinfo=NAIROBI)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"name,amount\nx,1\n", "x.csv", "missing: Receipt No. header row"),
        (b"", "x.csv", "empty"),
        (b"PK\x03\x04garbage", "x.xlsx", "not a readable XLSX"),
        (b"Receipt No.,Paid In\nTLK1,1\n", "x.csv", "Completion Time"),
    ],
)
def test_parse_statement_refuses_a_file_that_is_not_a_statement(data, name, message):
    # when
    with pytest.raises(StatementFormatError) as caught:
        parse_statement(data, name)
    # then
    assert message in str(caught.value)


def test_parse_statement_names_the_line_of_a_bad_time():
    # given
    data = support.csv_file([support.paid_in("TLK1AB2CD3", time="yesterday")])
    # when
    with pytest.raises(StatementFormatError) as caught:
        parse_statement(data, "s.csv")
    # then
    assert "line 10: Completion Time" in str(caught.value)
