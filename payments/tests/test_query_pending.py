"""``manage.py query_pending`` with Daraja replaced at its boundary (a fake
client given to the services); the database is real."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookings.models import Booking
from payments.daraja.exceptions import DarajaRejected, DarajaUnavailable
from payments.models import Payment, PaymentEvent
from payments.tests.factories import PaymentFactory
from payments.tests.fakes import query_answer

pytestmark = pytest.mark.django_db
Status = Payment.Status
FAILURE_CODES = ["1", "17", "1019", "1032", "1037", "2001", "SFC_IC0003"]


@pytest.fixture(autouse=True)
def _daraja_settings(daraja_settings):
    settings = daraja_settings
    settings.MPESA_STK_LIFETIME_SECONDS = 180
    settings.MPESA_QUERY_RATE_PER_SECOND = 1000


def _aged(seconds: int = 120, **traits) -> Payment:
    payment = PaymentFactory(**traits)
    then = timezone.now() - timedelta(seconds=seconds)
    Payment.objects.filter(pk=payment.pk).update(created_at=then, accepted_at=then)
    return payment


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(*args: str, stdout=None) -> tuple[str, str]:
    out, err = stdout or io.StringIO(), io.StringIO()
    call_command("query_pending", "--concurrency=1", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _table(out: str) -> dict[str, int]:
    """The summary table at the end of the output, as label -> count."""
    lines = out[out.index("Summary") :].splitlines()[1:]
    return {line.rsplit(None, 1)[0].strip(): int(line.split()[-1]) for line in lines}


def _status(payment: Payment) -> str:
    payment.refresh_from_db()
    return payment.status


def test_query_pending_completes_paid_payment(fake_daraja):
    # given
    payment = _aged()
    fake_daraja.query_result = query_answer("0", "processed successfully")

    # when
    out, _ = _run()

    # then
    assert _status(payment) == Status.COMPLETED
    assert payment.booking.status == Booking.Status.CONFIRMED
    assert f"payment {payment.pk}: pending -> completed" in out
    assert fake_daraja.queries == [payment.checkout_request_id]


@pytest.mark.parametrize("code", FAILURE_CODES)
def test_query_pending_fails_payment_on_each_failure_code(fake_daraja, code):
    # given
    payment = _aged()
    fake_daraja.query_result = query_answer(code, f"result {code}")

    # when
    _run()

    # then
    assert _status(payment) == Status.FAILED
    assert payment.result_code == code
    assert payment.failure_reason


def test_query_pending_leaves_processing_payment_pending(fake_daraja):
    # given
    payment = _aged(120)
    fake_daraja.query_result = query_answer(None)

    # when
    out, _ = _run()

    # then
    assert _status(payment) == Status.PENDING
    assert payment.last_queried_at is not None
    assert "pending, still pending" in out


def test_query_pending_expires_unresolved_payment_past_lifetime(fake_daraja):
    # given
    payment = _aged(181)
    fake_daraja.query_result = query_answer(None)

    # when
    _run()

    # then
    assert _status(payment) == Status.EXPIRED


def test_query_pending_treats_rejection_as_unresolved(fake_daraja):
    # given
    payment = _aged(120)
    fake_daraja.query_result = DarajaRejected(
        error_code="400.002.02", error_message="This transaction does not exist"
    )

    # when
    _run()

    # then
    assert _status(payment) == Status.PENDING


def test_query_pending_reports_daraja_error_and_exits_zero(fake_daraja):
    # given
    payment = _aged()
    fake_daraja.query_result = DarajaUnavailable("connection reset")

    # when
    out, err = _run()

    # then
    assert _status(payment) == Status.PENDING
    assert "connection reset" in out
    assert "1 payment(s) could not be queried" in err


def test_query_pending_goes_on_past_one_error(fake_daraja):
    # given
    first, second = _aged(130), _aged(120)
    answers = iter([DarajaUnavailable("timeout"), query_answer("0")])

    def answer(checkout_request_id: str) -> None:
        fake_daraja.query_result = next(answers)

    fake_daraja.on_query = answer

    # when
    out, _ = _run()

    # then
    assert (_status(first), _status(second)) == (Status.PENDING, Status.COMPLETED)
    assert _table(out)["errors"] == 1


def test_query_pending_skips_young_payments(fake_daraja):
    # given
    young = _aged(30)

    # when
    _run("--older-than=60")

    # then
    assert fake_daraja.queries == []
    assert _status(young) == Status.PENDING


def test_query_pending_limit_takes_oldest_first(fake_daraja):
    # given
    oldest, _newer = _aged(300), _aged(100)
    fake_daraja.query_result = query_answer("0")

    # when
    _run("--limit=1")

    # then
    assert fake_daraja.queries == [oldest.checkout_request_id]


def test_query_pending_dry_run_changes_nothing(fake_daraja):
    # given
    paid, old = _aged(120), _aged(400)
    answers = {
        paid.checkout_request_id: query_answer("0"),
        old.checkout_request_id: query_answer(None),
    }
    fake_daraja.on_query = lambda cid: setattr(
        fake_daraja, "query_result", answers[cid]
    )

    # when
    out, _ = _run("--dry-run")

    # then
    assert (_status(paid), _status(old)) == (Status.PENDING, Status.PENDING)
    assert paid.last_queried_at is None
    assert not PaymentEvent.objects.exists()
    assert "Dry run" in out
    assert f"payment {paid.pk}: pending -> completed (not applied)" in out
    assert f"payment {old.pk}: pending -> expired (not applied)" in out


def test_query_pending_json_output(fake_daraja):
    # given
    payment = _aged()
    fake_daraja.query_result = query_answer("1032", "Request cancelled by user")

    # when
    out, _ = _run("--json")

    # then
    document = json.loads(out)
    assert document["summary"] == {
        "examined": 1,
        "completed": 0,
        "failed": 1,
        "expired": 0,
        "needs_review": 0,
        "still_pending": 0,
        "unchanged": 0,
        "errors": 0,
    }
    assert document["outcomes"] == [
        {
            "payment_id": payment.pk,
            "before": "pending",
            "after": "failed",
            "answer": "failed",
            "detail": "Request cancelled by user",
        }
    ]
    assert document["dry_run"] is False


def test_query_pending_prints_summary_table(fake_daraja):
    # given
    _aged(120)
    _aged(400)
    fake_daraja.query_result = query_answer(None)

    # when
    out, _ = _run()

    # then
    assert _table(out) == {
        "examined": 2,
        "completed": 0,
        "failed": 0,
        "expired": 1,
        "still pending": 1,
        "needs review": 0,
        "unchanged": 0,
        "errors": 0,
    }


def test_query_pending_shows_progress_only_on_a_terminal(fake_daraja):
    # given
    _aged()
    fake_daraja.query_result = query_answer("0")

    # when
    on_terminal, _ = _run(stdout=Tty())

    # then
    assert "\rqueried 1: completed 1" in on_terminal


def test_query_pending_no_progress_when_piped(fake_daraja):
    # given
    _aged()
    fake_daraja.query_result = query_answer("0")

    # when
    out, _ = _run()

    # then
    assert "\r" not in out


def test_query_pending_fails_when_daraja_not_configured(fake_daraja, settings):
    # given
    settings.MPESA_CONSUMER_KEY = ""
    payment = _aged()

    # when / then
    with pytest.raises(CommandError, match="MPESA_CONSUMER_KEY"):
        _run()
    assert fake_daraja.queries == []
    assert _status(payment) == Status.PENDING
    assert payment.last_queried_at is None


def test_query_pending_refuses_bad_options():
    # when / then
    with pytest.raises(CommandError, match="concurrency"):
        call_command("query_pending", "--concurrency=0")
