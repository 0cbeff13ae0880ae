"""``GET /simulator/statement``: the org portal statement from the ledger.

The layout follows what finance staff download from the M-Pesa org
portal (docs/simulator.md, "Statement and Pull Transactions"): a header
block, then a header row starting ``Receipt No.``, times in Nairobi as
``dd-mm-yyyy HH:MM:SS``, amounts as ``1,000.00``, withdrawals negative, a
running balance and masked ``Other Party Info``.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from .identifiers import NAIROBI, nairobi_now
from .initiator_results import ORGANISATION_NAME
from .ledger_rows import LedgerRow, ledger_rows, portal_party
from .messages import Request, Response
from .state import SimulatorState

COLUMNS = (
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
)
PORTAL_TIME = "%d-%m-%Y %H:%M:%S"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Period:
    """The statement's window, both ends included, in Nairobi time."""

    start: datetime
    end: datetime

    def holds(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in the window."""
        return self.start <= moment <= self.end


def parse_moment(text: str, *, end_of_day: bool) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` (Nairobi); ValueError."""
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text.strip(), layout)  # noqa: DTZ007
        except ValueError:
            continue
        if layout == "%Y-%m-%d" and end_of_day:
            moment += timedelta(days=1, seconds=-1)
        return moment.replace(tzinfo=NAIROBI)
    raise ValueError(f"not a date (YYYY-MM-DD[ HH:MM:SS]): {text!r}")


def period_of(request: Request) -> Period:
    """``from`` and ``to`` of the query; by default today until now."""
    now = nairobi_now()
    start_text, end_text = request.param("from"), request.param("to")
    start = (
        parse_moment(start_text, end_of_day=False)
        if start_text
        else now.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    end = parse_moment(end_text, end_of_day=True) if end_text else now
    if end < start:
        raise ValueError("to is before from")
    return Period(start=start, end=end)


def money(amount: int) -> str:
    """``-1500`` -> ``-1,500.00``."""
    return f"{amount:,.2f}"


def statement_table(state: SimulatorState, request: Request) -> list[list[str]]:
    """The header block, a blank line, the header row and one row each."""
    period = period_of(request)
    short_code = request.param("short_code") or ""
    rows = [
        row
        for row in ledger_rows(state)
        if not short_code or row.short_code == short_code
    ]
    before = [r for r in rows if r.completed_at < period.start]
    opening = sum(r.paid_in - r.withdrawn for r in before)
    shown = [r for r in rows if period.holds(r.completed_at)]
    paid_in = sum(r.paid_in for r in shown)
    withdrawn = sum(r.withdrawn for r in shown)
    closing = opening + paid_in - withdrawn
    header = [
        ["Account Holder:", ORGANISATION_NAME],
        ["Short Code:", short_code or state.config.short_code],
        ["Account:", "Utility Account"],
        [
            f"Time Period: From {period.start.strftime(PORTAL_TIME)} "
            f"To {period.end.strftime(PORTAL_TIME)}"
        ],
        ["Operator:", "SIMULATOR"],
        ["Report Date:", nairobi_now().strftime(PORTAL_TIME)],
        ["Opening Balance:", money(opening)],
        ["Closing Balance:", money(closing)],
        ["Available Balance:", money(closing)],
        ["Total Paid In:", money(paid_in)],
        ["Total Withdrawn:", money(-withdrawn)],
        [],
        list(COLUMNS),
    ]
    balance = opening
    body = []
    for row in shown:
        balance += row.paid_in - row.withdrawn
        body.append(_portal_row(row, balance))
    return header + body


def _portal_row(row: LedgerRow, balance: int) -> list[str]:
    return [
        row.receipt,
        row.completed_at.astimezone(NAIROBI).strftime(PORTAL_TIME),
        row.initiated_at.astimezone(NAIROBI).strftime(PORTAL_TIME),
        row.details,
        "Completed",
        money(row.paid_in) if row.paid_in else "",
        money(-row.withdrawn) if row.withdrawn else "",
        money(balance),
        "true",
        row.reason_type,
        portal_party(row.phone) if row.phone else "",
        row.linked_receipt,
        row.account,
    ]


def statement_response(state: SimulatorState, request: Request) -> Response:
    """The statement as CSV (default) or xlsx; ValueError on a bad query."""
    wanted = (request.param("format") or "csv").lower()
    if wanted not in ("csv", "xlsx"):
        raise ValueError("format must be csv or xlsx")
    table = statement_table(state, request)
    name = f"statement-{nairobi_now().strftime('%Y%m%d%H%M%S')}.{wanted}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if wanted == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(table)
        return Response(200, out.getvalue().encode("utf-8"), headers, CSV_TYPE)
    return Response(200, _xlsx(table), headers, XLSX_TYPE)


def _xlsx(table: list[list[str]]) -> bytes:
    """The same cells in one worksheet (openpyxl, imported only here)."""
    from openpyxl import Workbook  # noqa: PLC0415 - optional, xlsx only

    book = Workbook()
    sheet = book.active
    sheet.title = "Statement"
    for line in table:
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
