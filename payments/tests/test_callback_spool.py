"""Callbacks that arrive while the database is down are kept on disk."""

import pytest
from django.core.management import call_command
from django.db import OperationalError

from payments.models import Payment, PaymentEvent
from payments.services import spool
from payments.tests.conftest import callback_url
from payments.tests.factories import PaymentFactory
from payments.tests.payloads import as_bytes, success_callback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _spool_dir(settings, tmp_path):
    settings.CALLBACK_SPOOL_DIR = str(tmp_path / "spool")


@pytest.fixture
def database_down(monkeypatch):
    """Storing a callback fails as it would with PostgreSQL unreachable
    (fault injection at the one call the spool guards)."""

    def refuse(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed")

    monkeypatch.setattr(spool, "payment_receive_callback", refuse)
    return monkeypatch


def post(client, payment, receipt="NLJ7RT61SV"):
    return client.generic(
        "POST",
        callback_url(),
        as_bytes(success_callback(payment.checkout_request_id, receipt=receipt)),
        content_type="application/json",
    )


def test_callback_during_an_outage_is_acknowledged_and_kept_on_disk(
    client, database_down, settings
):
    # given
    payment = PaymentFactory()
    # when
    response = post(client, payment)
    # then
    assert response.status_code == 200
    assert len(list(spool._spool_dir().glob("*.json"))) == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_spooled_callback_is_replayed_by_the_next_stored_one(client, database_down):
    # given: one callback spooled during the outage
    first = PaymentFactory()
    post(client, first)
    database_down.undo()
    second = PaymentFactory(booking__start=first.booking.start.replace(hour=15))
    # when: the database is back and another callback arrives
    post(client, second, receipt="NLJ7RT62XX")
    # then
    first.refresh_from_db()
    assert first.status == Payment.Status.COMPLETED
    assert first.mpesa_receipt_number == "NLJ7RT61SV"
    assert PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.CALLBACK, checkout_request_id=first.checkout_request_id
    ).exists()
    assert not list(spool._spool_dir().glob("*"))


def test_replay_command_stores_spooled_callbacks(client, database_down):
    # given
    payment = PaymentFactory()
    post(client, payment)
    database_down.undo()
    # when
    call_command("replay_callbacks")
    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert not list(spool._spool_dir().glob("*.json"))


def test_replay_stops_and_keeps_files_while_the_database_is_down(client, database_down):
    # given
    post(client, PaymentFactory())
    # when
    replayed = spool.payment_replay_spooled_callbacks()
    # then
    assert replayed == 0
    assert len(list(spool._spool_dir().glob("*.json"))) == 1
