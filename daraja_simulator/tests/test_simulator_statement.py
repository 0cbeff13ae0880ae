"""``GET /simulator/statement``: the org portal layout from the ledger."""

import io
from datetime import datetime

from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    SHORT_CODE,
    receiver_fixture,
)
from daraja_simulator.tests.initiator_fixtures import (  # noqa: F401 - fixtures
    initiator_fixture,
    money_sim_fixture,
    results_fixture,
)
from daraja_simulator.tests.ledger_fixtures import (
    PAYBILL_PHONE,
    fill_ledger,
    statement,
    statement_rows,
)


def _by_receipt(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["Receipt No."]: row for row in rows}


def test_statement_lists_every_movement_even_with_a_lost_callback(initiator):
    # given
    receipts = fill_ledger(initiator)

    # when
    answer = statement(initiator)

    # then
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    _, rows = statement_rows(answer.text)
    by_receipt = _by_receipt(rows)
    lost = by_receipt[receipts["lost"]]
    assert lost["Paid In"] == "3,000.00"
    assert lost["Withdrawn"] == ""
    assert lost["Reason Type"] == "Pay Utility"
    assert lost["A/C No."] == "HY-B00042"
    assert lost["Other Party Info"] == "25470****149 - JOHN DOE"
    assert lost["Transaction Status"] == "Completed"
    paybill = by_receipt[receipts["paybill"]]
    assert paybill["Reason Type"] == "Pay Bill Online"
    assert paybill["A/C No."] == "hy-b00043"
    assert paybill["Paid In"] == "1,500.00"
    assert PAYBILL_PHONE not in answer.text
    reversal = by_receipt[receipts["reversal"]]
    assert reversal["Withdrawn"] == "-2,000.00"
    assert reversal["Linked Transaction ID"] == receipts["reversed"]
    assert by_receipt[receipts["b2c"]]["Withdrawn"] == "-500.00"


def test_statement_charges_each_payment_in_on_a_row_of_its_own(initiator):
    # given
    receipts = fill_ledger(initiator)

    # when
    _, rows = statement_rows(statement(initiator).text)

    # then
    charges = [r for r in rows if r["Reason Type"] == "Business Pay Bill Charge"]
    linked = {r["Linked Transaction ID"]: r["Withdrawn"] for r in charges}
    assert linked[receipts["lost"]] == "-17.00"
    assert linked[receipts["paybill"]] == "-9.00"
    assert len(charges) == 3
    assert all(r["Receipt No."] not in receipts.values() for r in charges)
    order = [r["Receipt No."] for r in rows]
    for charge in charges:
        paid_at = order.index(charge["Linked Transaction ID"])
        assert order.index(charge["Receipt No."]) == paid_at + 1


def test_statement_balance_runs_and_the_header_adds_up(initiator):
    # given
    fill_ledger(initiator)

    # when
    header, rows = statement_rows(statement(initiator).text)

    # then
    balance = 0.0
    for row in rows:
        paid_in = float((row["Paid In"] or "0").replace(",", ""))
        withdrawn = float((row["Withdrawn"] or "0").replace(",", ""))
        balance += paid_in + withdrawn
        assert float(row["Balance"].replace(",", "")) == balance
    lines = {line[0]: line[1:] for line in header if line}
    assert lines["Opening Balance:"] == ["0.00"]
    assert lines["Total Paid In:"] == ["6,500.00"]
    assert lines["Closing Balance:"] == [rows[-1]["Balance"]]
    assert lines["Short Code:"] == [SHORT_CODE]
    assert any(key.startswith("Time Period: From ") for key in lines)


def test_statement_time_period_and_times_are_portal_style(initiator):
    # given
    fill_ledger(initiator)

    # when
    header, rows = statement_rows(
        statement(initiator, **{"from": "2026-01-01", "to": "2099-12-31"}).text
    )

    # then
    assert ["Time Period: From 01-01-2026 00:00:00 To 31-12-2099 23:59:59"] in header
    completion = rows[0]["Completion Time"]
    moment = datetime.strptime(completion, "%d-%m-%Y %H:%M:%S")  # noqa: DTZ007
    assert moment.year >= 2026


def test_statement_before_the_period_goes_into_the_opening_balance(initiator):
    # given
    fill_ledger(initiator)

    # when
    header, rows = statement_rows(
        statement(initiator, **{"from": "2099-01-01", "to": "2099-01-02"}).text
    )

    # then
    lines = {line[0]: line[1:] for line in header if line}
    assert rows == []
    assert lines["Opening Balance:"] == lines["Closing Balance:"]
    assert lines["Opening Balance:"] != ["0.00"]


def test_statement_as_xlsx_has_the_same_cells(initiator):
    # given
    from openpyxl import load_workbook

    receipts = fill_ledger(initiator)

    # when
    answer = statement(initiator, format="xlsx")

    # then
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    cells = [
        [cell for cell in row if cell is not None]
        for row in sheet.iter_rows(values_only=True)
    ]
    header_at = next(i for i, row in enumerate(cells) if row[:1] == ["Receipt No."])
    assert receipts["lost"] in {row[0] for row in cells[header_at + 1 :]}


def test_statement_refuses_a_bad_date_or_format(initiator):
    assert statement(initiator, **{"from": "02-12-2026"}).status_code == 400
    assert statement(initiator, format="pdf").status_code == 400
    bad_order = statement(initiator, **{"from": "2026-12-02", "to": "2026-12-01"})
    assert bad_order.status_code == 400
    assert "to is before from" in bad_order.json()["error"]


def test_statement_filters_by_short_code(initiator):
    # given
    fill_ledger(initiator)

    # when
    _, rows = statement_rows(statement(initiator, short_code="600000").text)

    # then
    assert rows == []
