"""One row of M-Pesa's record of our shortcode: the org portal statement's
line, or (later) a Pull Transactions row converted into the same shape.

Pure: no Django. Amounts are whole shillings; a row whose amount is not
(``"1,000.50"``) keeps 0 here, its text in ``raw`` and the reason in
``amount_problem``, and is never matched (``StatementLine`` outcome
``unusable``): M-Pesa moves whole shillings, so a fraction means the file
is not what we think it is, and rounding would hide that.
"""

from dataclasses import dataclass, field
from datetime import datetime

DIRECTION_IN = "in"
DIRECTION_OUT = "out"


@dataclass(frozen=True, slots=True)
class StatementRow:
    receipt_number: str
    completion_time: datetime | None
    initiation_time: datetime | None
    details: str
    transaction_status: str
    paid_in: int
    withdrawn: int
    balance: int | None
    reason_type: str
    other_party_info: str
    linked_transaction_id: str
    account_number: str
    raw: dict[str, str] = field(default_factory=dict)
    # Why an amount could not be read as whole shillings ("" when it could).
    amount_problem: str = ""

    @property
    def direction(self) -> str:
        """``in`` for money paid in, ``out`` for a withdrawal."""
        return DIRECTION_OUT if self.withdrawn and not self.paid_in else DIRECTION_IN

    @property
    def is_completed(self) -> bool:
        return self.transaction_status.strip().lower() == "completed"

    @property
    def amount(self) -> int:
        """The row's money, whichever way it moved."""
        return self.paid_in or self.withdrawn
