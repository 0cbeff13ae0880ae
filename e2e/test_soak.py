"""Fault-injection soak (issue 8, item 6; issue 13): nothing lost, nothing
twice, every shilling explained.

Books ``SOAK_BOOKINGS`` slots (60 by default, 2,000 at full size) across
several clients, advocates and days. Most are paid through the real API
while the simulator duplicates 10% of callbacks, loses 10%, sends 5% after
the STK lifetime, answers 5% of pushes and queries with 500/503/429 and
holds 2% of pushes past our read time-out. ``SOAK_PAYBILL_SHARE`` of them
(15%) are paid by Paybill instead: ``/simulator/c2b/pay`` with the booking's
reference as the account number (some typed in lower case with spaces and
dashes), a few underpaid or overpaid by KES 50, a few to an account number
that is no booking's. Our C2B URLs are registered at the start
(``SOAK_C2B_VERSION``: v2, v1 or alternate), and for the last
``SOAK_DOUBLE_NOTIFICATION`` of the run (half) every STK success also
reaches our confirmation URL with the same receipt. Then ``query_pending``
runs and the test checks the app's rows against the simulator's ledger:

- Nothing open: no payment initiated or pending (database and staff API).
- Payments: every push the simulator paid is a completed payment (or, its
  outcome unknown to us, one in review; or closed "paid by Paybill" when
  its own receipt, reported as a C2B confirmation, paid its booking first
  and nothing told the payment otherwise: its callback lost, or its push's
  answer later than the confirmation); every completed payment was paid,
  for its amount, once (one ``completed`` event), with the simulator's
  receipt when it has one; no receipt on two payments; every success
  callback's receipt is on its payment.
- Bookings: a confirmed booking has its money (a completed payment or a
  receipt allocated to it); a completed payment's booking is confirmed and
  paid; no booking is paid twice (two completed payments, or a payment and
  a receipt that is not that payment's); a booking paid by Paybill with the
  right amount and reference is confirmed and paid exactly once, by that
  receipt; an underpaid, overpaid or unknown-account payment stays
  ``unallocated`` with that reason and pays nothing.
- Ledger: no receipt number is in the ledger twice and no report is sighted
  twice; every receipt that reached us by an STK callback or a C2B
  confirmation we answered 200 (the simulator's record of what it sent) is
  in the ledger; no payment in review holds the receipt that paid its own
  booking (one receipt reported by STK and C2B is one payment, never a
  payment and a refund).
- Raw events: every callback and every confirmation the simulator
  delivered is a stored ``PaymentEvent``, and each was answered 200.
- Money, to the shilling::

      successful_amount + paybill_successful_amount      (the simulator took)
        = Σ MpesaReceipt.amount, direction "in"          (the ledger)
        + Σ amount of completed payments with no receipt in the ledger
                                                         (receipt pending)
        + Σ amount of needs_review payments with no receipt in the ledger
          whose push the simulator paid and whose receipt is neither in
          the ledger nor on a receipt-pending payment     (held in review)

  "No receipt in the ledger" means no ``MpesaReceipt`` with the payment's
  id or its ``mpesa_receipt_number``, so a review payment whose receipt is
  in the ledger (a booking already paid, a receipt on another payment) is
  counted once, there. A review payment is matched to the simulator by
  CheckoutRequestID, or by phone when its push's outcome is unknown (one
  phone per booking). Each term is listed in the report, and each of the
  simulator's receipts must be claimed by exactly one of them: none is
  "money unexplained", two are "money counted twice", and a ledger row or
  pending payment the simulator never took is listed too.

Full size (see docs/soak.md)::

    SOAK_BOOKINGS=2000 .venv/bin/pytest e2e/test_soak.py -m soak -s
"""

import os
from collections.abc import Iterator

import pytest

from e2e.soak import SoakConfig
from e2e.soak_run import run_soak, soak_failures
from e2e.stack import Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.soak]

CONFIG = SoakConfig.from_env()
# Redis database of the soak's processes: not the e2e stack's (13), which
# may be alive in the same session.
SOAK_REDIS_DB = os.environ.get("E2E_SOAK_REDIS_DB", "14")


@pytest.fixture(scope="module")
def soak_stack(tmp_path_factory) -> Iterator[Stack]:
    """Its own processes: short STK lifetime and read time-out (see soak.py)."""
    stack = start_stack(
        tmp_path_factory.mktemp("soak-stack"),
        overrides=CONFIG.process_env(),
        redis_db=SOAK_REDIS_DB,
    )
    try:
        yield stack
    finally:
        stack.stop()


def test_soak_under_faults_loses_nothing_and_settles_everything(soak_stack):
    counts, problems = run_soak(soak_stack, CONFIG)
    assert soak_failures(counts, problems) == {}
