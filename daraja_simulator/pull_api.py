"""Pull Transactions: ``/pulltransactions/v1/register`` and ``/query``.

Register stores a shortcode's nominated number (2547... format) and
callback URL; query answers the paid-in rows of the simulator's ledger
(STK and paybill payments to that shortcode, also those whose callbacks
were lost) between ``StartDate`` and ``EndDate``, within the last 48
hours, ``pull_page_size`` rows from the row offset ``OffSetValue``.
Field names and codes: docs/simulator.md, "Statement and Pull
Transactions" (several are [UNCERTAIN]).
"""

from datetime import datetime, timedelta
from typing import Any

from . import errors
from .errors import DarajaError
from .identifiers import NAIROBI, nairobi_now
from .initiator_results import ORGANISATION_NAME
from .ledger_rows import LedgerRow, ledger_rows
from .messages import Response, json_response
from .pull import PullRegistration
from .state import SimulatorState
from .validation import as_digits, check_msisdn, check_url

PULL_WINDOW = timedelta(hours=48)
PULL_DATE = "%Y-%m-%d %H:%M:%S"
FOUND = "1000"
NONE_FOUND = "1001"
REGISTERED = "Shortcode Registered Successfully"
ALREADY_REGISTERED = "Shortcode already registered"
NOT_REGISTERED = "Shortcode not registered for Pull Transactions"
TRANSACTION_TYPE = "c2b-pay-bill-debit"


def pull_register(state: SimulatorState, body: dict[str, Any]) -> Response:
    """Register ``ShortCode`` with ``RequestType`` "Pull"; 400 if unfit."""
    short_code = as_digits(body.get("ShortCode"))
    if not short_code:
        raise errors.bad_request("ShortCode")
    if str(body.get("RequestType", "")).lower() != "pull":
        raise errors.bad_request("RequestType")
    number = check_msisdn(body.get("NominatedNumber"), "NominatedNumber")
    url = check_url(
        body.get("CallBackURL"),
        "CallBackURL",
        forbid_keywords=state.config.forbid_callback_keywords,
    )
    registration = PullRegistration(short_code, number, url, nairobi_now())
    first = state.pull.register(registration)
    return json_response(
        200,
        {
            "ResponseRefID": state.ids.request_id(),
            "ResponseStatus": "0000" if first else "1000",
            "ShortCode": short_code,
            "ResponseDescription": REGISTERED if first else ALREADY_REGISTERED,
        },
    )


def pull_query(state: SimulatorState, body: dict[str, Any]) -> Response:
    """One page of paid-in rows; ResponseCode 1000, or 1001 for none."""
    short_code = as_digits(body.get("ShortCode"))
    if not short_code:
        raise errors.bad_request("ShortCode")
    if not state.pull.registered(short_code):
        raise DarajaError(400, errors.BAD_REQUEST, NOT_REGISTERED)
    start = _pull_date(body.get("StartDate"), "StartDate")
    end = _pull_date(body.get("EndDate"), "EndDate")
    offset = as_digits(body.get("OffSetValue", "0"))
    if offset is None:
        raise errors.bad_request("OffSetValue")
    start = max(start, nairobi_now() - PULL_WINDOW)
    rows = [
        row
        for row in ledger_rows(state)
        if row.is_payment_in
        and row.short_code == short_code
        # Dates are whole seconds: a payment at 10:00:05.3 is in "10:00:05".
        and start <= row.completed_at.replace(microsecond=0) <= end
    ]
    size = state.config.pull_page_size
    page = rows[int(offset) : int(offset) + size]
    reference = state.ids.request_id()
    if not page:
        return json_response(
            200,
            {
                "ResponseRefID": reference,
                "ResponseCode": NONE_FOUND,
                "ResponseMessage": "No records found",
                "Response": [[]],
            },
        )
    return json_response(
        200,
        {
            "ResponseRefID": reference,
            "ResponseCode": FOUND,
            "ResponseMessage": "Success",
            "Response": [[_pull_row(row) for row in page]],
        },
    )


def _pull_date(value: Any, field_name: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` in Nairobi; else 400.002.02."""
    try:
        moment = datetime.strptime(str(value), PULL_DATE)  # noqa: DTZ007
    except ValueError:
        raise errors.bad_request(field_name) from None
    return moment.replace(tzinfo=NAIROBI)


def _pull_row(row: LedgerRow) -> dict[str, Any]:
    """A row as Pull Transactions shows it (trxDate ISO, Nairobi)."""
    return {
        "transactionId": row.receipt,
        "trxDate": row.completed_at.astimezone(NAIROBI)
        .replace(tzinfo=None, microsecond=0)
        .isoformat(),
        "msisdn": row.phone,
        "transactiontype": TRANSACTION_TYPE,
        "billreference": row.account,
        "amount": f"{row.paid_in}.00",
        "organizationname": ORGANISATION_NAME,
    }
