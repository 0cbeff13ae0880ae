"""Statement files built by the tests (CSV and XLSX), in the portal's layout."""

import csv
import io

from openpyxl import Workbook

COLUMNS = [
    "Receipt No.",
    "Completion Time",
    "Initiation Time",
    "Details",
    "Transaction Status",
    "Paid In",
    "Withdrawn",
    "Balance",
    "Balance Confirmed",
    "Reason Type",
    "Other Party Info",
    "Linked Transaction ID",
    "A/C No.",
]
PERIOD = "From 01-12-2026 00:00:00 To 03-12-2026 23:59:59"


def header_block(period: str = PERIOD) -> list[list[str]]:
    return [
        ["Account Holder:", "Haki Yetu Legal Ltd"],
        ["Short Code:", "600123"],
        ["Time Period:", period],
        ["Opening Balance:", "10,000.00"],
        ["Closing Balance:", "13,000.00"],
        ["Total Paid In:", "3,000.00"],
        ["Total Withdrawn:", "0.00"],
        [],
    ]


def paid_in(
    receipt: str,
    amount: str = "3,000.00",
    *,
    account: str = "",
    time: str = "02-12-2026 10:00:05",
    status: str = "Completed",
    reason: str = "Pay Utility",
) -> dict[str, str]:
    return {
        "Receipt No.": receipt,
        "Completion Time": time,
        "Initiation Time": time,
        "Details": "Pay Utility from 25470****149 - JOHN DOE",
        "Transaction Status": status,
        "Paid In": amount,
        "Withdrawn": "",
        "Balance": "13,000.00",
        "Balance Confirmed": "true",
        "Reason Type": reason,
        "Other Party Info": "25470****149 - JOHN DOE",
        "Linked Transaction ID": "",
        "A/C No.": account,
    }


def withdrawn(
    receipt: str,
    amount: str = "-3,000.00",
    *,
    reason: str = "Reversal",
    linked: str = "",
    time: str = "02-12-2026 12:00:00",
) -> dict[str, str]:
    return {
        **paid_in(receipt, "", time=time, reason=reason),
        "Details": reason,
        "Withdrawn": amount,
        "Linked Transaction ID": linked,
    }


def table(rows, *, columns=COLUMNS, block=None) -> list[list[str]]:
    block = header_block() if block is None else block
    body = [[row.get(name, "") for name in columns] for row in rows]
    return [*block, list(columns), *body]


def csv_file(rows, **kwargs) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(table(rows, **kwargs))
    return out.getvalue().encode()


def xlsx_file(rows, **kwargs) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for line in table(rows, **kwargs):
        sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
