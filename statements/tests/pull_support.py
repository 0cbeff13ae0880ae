"""Pull Transactions for the statements tests: rows as Daraja sends them,
and a fake client at the one seam (``daraja_client.daraja``)."""

from datetime import datetime, timedelta

from django.utils import timezone

from core.time import NAIROBI
from payments.daraja.pull_types import read_row
from payments.daraja.types import PullPage, PullTransaction

PULL_SHORT_CODE = "600984"


def pulled(
    receipt: str,
    amount: str = "3000.00",
    *,
    account: str = "",
    when: datetime | None = None,
    msisdn: str = "254708374149",
    kind: str = "c2b-pay-bill-debit",
) -> PullTransaction:
    """One row of a Pull Transactions answer, read by the adapter."""
    moment = when or timezone.now() - timedelta(minutes=30)
    row = read_row(
        {
            "transactionId": receipt,
            "trxDate": moment.astimezone(NAIROBI)
            .replace(tzinfo=None, microsecond=0)
            .isoformat(),
            "msisdn": msisdn,
            "transactiontype": kind,
            "billreference": account,
            "amount": amount,
            "organizationname": "Haki Yetu",
        }
    )
    assert row is not None
    return row


class PullClient:
    """Answers every query with ``rows`` (one page), or raises ``error``."""

    def __init__(self, rows: list[PullTransaction], error: Exception | None = None):
        self.rows = rows
        self.error = error
        self.calls: list[dict] = []

    def pull_transactions(self, **kwargs) -> PullPage:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        page = tuple(self.rows) if kwargs["offset"] == 0 else ()
        return PullPage(
            rows=page,
            unreadable=(),
            offset=kwargs["offset"],
            response_code="1000" if page else "1001",
            response_message="",
            raw={},
        )
