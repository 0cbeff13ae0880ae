"""Callbacks that arrive while the database is down are kept on disk."""

import base64
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DataError, IntegrityError, OperationalError

from core.tests.outage import database_unreachable
from payments.models import Payment, PaymentEvent
from payments.services import callbacks, spool
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

    monkeypatch.setattr(callbacks, "payment_store_and_apply_callback", refuse)
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
    assert len(list(spool.spool_dir().glob("*.json"))) == 1
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
    assert not list(spool.spool_dir().glob("*"))


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
    assert not list(spool.spool_dir().glob("*.json"))


def test_replay_stops_and_keeps_files_while_the_database_is_down(client, database_down):
    # given
    post(client, PaymentFactory())
    # when
    replay = callbacks.payment_replay_spooled_callbacks()
    # then
    assert (replay.replayed, replay.quarantined, replay.left) == (0, 0, 1)
    assert len(list(spool.spool_dir().glob("*.json"))) == 1


def spooled() -> list:
    return sorted(spool.spool_dir().glob("*.json"))


def quarantined() -> list[str]:
    return sorted(p.name for p in (spool.spool_dir() / "quarantine").glob("*"))


def ten_payments() -> list[Payment]:
    start = PaymentFactory.build().booking.start
    return [
        PaymentFactory(booking__start=start + timedelta(hours=i)) for i in range(10)
    ]


@pytest.mark.parametrize("error", [DataError, IntegrityError])
def test_a_content_error_while_storing_is_not_spooled(client, monkeypatch, error):
    # given: the database is up but refuses the row
    def refuse(**kwargs):
        raise error("value too long for type character varying(64)")

    monkeypatch.setattr(callbacks, "payment_store_and_apply_callback", refuse)
    # when / then
    with pytest.raises(error):
        post(client, PaymentFactory())
    assert spooled() == []


POISON_FILES = {
    "corrupt json": b'{"received_at": "2026-12-01T',
    "no body": json.dumps({"source_ip": None, "headers": {}}).encode(),
    "body not base64": json.dumps(
        {"source_ip": None, "headers": {}, "body": "!!not base64!!"}
    ).encode(),
    "headers not a mapping": json.dumps(
        {"source_ip": None, "headers": 7, "body": base64.b64encode(b"{}").decode()}
    ).encode(),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("poison", list(POISON_FILES))
def test_replay_after_an_outage_gets_past_a_poisoned_file(client, poison):
    # given: ten real callbacks spooled during an outage, and one bad file
    # that sorts first
    payments = ten_payments()
    with database_unreachable():
        codes = [
            post(client, p, receipt=f"NLJ7RT{i:04d}").status_code
            for i, p in enumerate(payments)
        ]
    spool.spool_dir().joinpath("00000000T000000-poison.json").write_bytes(
        POISON_FILES[poison]
    )
    out = io.StringIO()
    # when
    call_command("replay_callbacks", stdout=out)
    # then: every real one is replayed and paid; the bad one is set aside
    assert codes == [200] * 10
    for i, payment in enumerate(payments):
        payment.refresh_from_db()
        assert payment.status == Payment.Status.COMPLETED
        assert payment.mpesa_receipt_number == f"NLJ7RT{i:04d}"
    assert spooled() == []
    assert quarantined() == [
        "00000000T000000-poison.json",
        "00000000T000000-poison.json.error.txt",
    ]
    error = (spool.spool_dir() / "quarantine" / quarantined()[1]).read_text()
    assert error.strip()
    assert "replayed 10, quarantined 1, left 0" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_replay_after_an_outage_gets_past_a_spooled_unstorable_callback(client):
    # given: during an outage, first a callback with a lone surrogate (which
    # PostgreSQL refuses), then ten real ones
    payments = ten_payments()
    body = as_bytes(success_callback(payments[0].checkout_request_id)).replace(
        b'"29115-', b'"\\ud800-'
    )
    with database_unreachable():
        client.generic("POST", callback_url(), body, content_type="application/json")
        for i, payment in enumerate(payments):
            post(client, payment, receipt=f"NLJ7RT{i:04d}")
    # when
    replay = callbacks.payment_replay_spooled_callbacks()
    # then: the poisoned one is stored with its error, like a live one, and
    # every real one is applied after it
    assert (replay.replayed, replay.quarantined, replay.left) == (11, 0, 0)
    assert (
        PaymentEvent.objects.filter(
            kind=PaymentEvent.Kind.CALLBACK, error__startswith="malformed"
        ).count()
        == 1
    )
    for i, payment in enumerate(payments):
        payment.refresh_from_db()
        assert payment.mpesa_receipt_number == f"NLJ7RT{i:04d}"


@pytest.mark.django_db(transaction=True)
def test_replay_during_an_outage_quarantines_nothing_and_leaves_all(client):
    # given
    payments = ten_payments()[:3]
    with database_unreachable():
        for payment in payments:
            post(client, payment)
        # when: the replay runs while the database is still down
        replay = callbacks.payment_replay_spooled_callbacks()
    # then: a lost connection stops the replay; nothing is set aside
    assert (replay.replayed, replay.quarantined, replay.left) == (0, 0, 3)
    assert len(spooled()) == 3
    assert quarantined() == []


def test_replay_quarantines_a_callback_the_database_refuses(client, monkeypatch):
    # given: two spooled callbacks; the database refuses the first one's row
    first, second = (
        PaymentFactory(),
        PaymentFactory(
            booking__start=PaymentFactory.build().booking.start + timedelta(hours=3)
        ),
    )
    for payment in (first, second):
        spool.spool_write(
            raw_body=as_bytes(success_callback(payment.checkout_request_id)),
            source_ip=None,
            headers={},
        )
    real = callbacks.payment_store_and_apply_callback
    calls = []

    def refuse_first(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise DataError("value too long for type character varying(20)")
        return real(**kwargs)

    monkeypatch.setattr(callbacks, "payment_store_and_apply_callback", refuse_first)
    # when
    replay = callbacks.payment_replay_spooled_callbacks()
    # then
    assert (replay.replayed, replay.quarantined, replay.left) == (1, 1, 0)
    assert len(quarantined()) == 2
    assert "value too long" in "".join(
        p.read_text() for p in (spool.spool_dir() / "quarantine").glob("*.error.txt")
    )
