"""The CSV of a day's receipts: its rows, masked phones, no formulas."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from closing.receipts_csv import CSV_HEADER, csv_safe, receipts_csv_rows
from closing.tests.support import DAY, on_day, paybill_receipt, stk_receipt

pytestmark = pytest.mark.django_db


def _rows() -> list[dict[str, str]]:
    rows = list(receipts_csv_rows(DAY))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_receipts_csv_has_one_row_per_receipt_of_the_day_in_nairobi_time():
    # given
    receipt = stk_receipt("TLK4CSV001", at=on_day(23, 59))
    stk_receipt("TLK4NEXT01", at=on_day(0, 1, day=DAY + timedelta(days=1)))
    # when
    rows = _rows()
    # then
    assert len(rows) == 1
    assert rows[0]["receipt_number"] == "TLK4CSV001"
    assert rows[0]["time_nairobi"] == f"{DAY.isoformat()} 23:59:00"
    assert rows[0]["channel"] == "stk"
    assert rows[0]["amount_kes"] == "3000"
    assert rows[0]["payment_id"] == str(receipt.payment_id)
    assert rows[0]["booking_reference"] == receipt.booking.reference


def test_receipts_csv_masks_phone_numbers():
    # given
    paybill_receipt("TLK4PHONE1", payer_phone="254708374149", transacted_at=on_day(10))
    # when
    row = _rows()[0]
    # then
    assert row["payer_phone"] == "2547******149"


def test_receipts_csv_escapes_cells_a_spreadsheet_would_run():
    # given: an account number typed as a formula
    paybill_receipt(
        "TLK4INJECT", account='=HYPERLINK("http://x")', transacted_at=on_day(10)
    )
    # when
    row = _rows()[0]
    # then
    assert row["account_reference"] == '\'=HYPERLINK("http://x")'


@pytest.mark.parametrize("text", ["=1+1", "+254", "-5", "@SUM(A1)", "\tx"])
def test_csv_safe_prefixes_formula_starts(text):
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize("text", [" =1+1", "  +254", "\n-5", "\u00a0@SUM(A1)"])
def test_csv_safe_prefixes_formula_starts_after_whitespace(text):
    # a spreadsheet may trim the blanks and run what follows
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["HY7K2M9P", " HY7K2M9P", "JOHN - DOE"])
def test_csv_safe_keeps_plain_text(text):
    assert csv_safe(text) == text


def test_the_admin_csv_download_is_the_days_receipts(client, finance_user):
    # given
    stk_receipt("TLK4ADMIN1", at=on_day(12))
    client.force_login(finance_user)
    url = reverse("admin:closing_day_receipts_csv", kwargs={"day": DAY.isoformat()})
    # when
    response = client.get(url)
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_HEADER)
    assert rows[1][0] == "TLK4ADMIN1"
    assert "708374149" not in text
