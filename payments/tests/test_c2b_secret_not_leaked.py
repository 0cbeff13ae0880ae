"""MPESA_C2B_SECRET, the last segment of the C2B URLs, never reaches a log
line or an error page, even when it differs from the callback secret."""

import io
import logging
from contextlib import contextmanager

import pytest
from django.test import Client

from payments.tests.conftest import C2B_SECRET, CALLBACK_SECRET, c2b_url
from payments.tests.payloads import as_bytes, c2b_request

pytestmark = pytest.mark.django_db


@contextmanager
def written_by_handlers_of(name: str):
    """What the configured handlers of logger ``name`` write (their own
    filters and formatter; not pytest's), in a list of one string."""
    logger, handlers = logging.getLogger(name), []
    while logger:
        handlers += [
            h
            for h in logger.handlers
            if isinstance(h, logging.StreamHandler)
            and "_pytest" not in type(h).__module__
        ]
        if not logger.propagate:
            break
        logger = logger.parent
    assert handlers
    stream, written = io.StringIO(), []
    previous = [handler.setStream(stream) for handler in handlers]
    try:
        yield written
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)
        written.append(stream.getvalue())


def test_a_rejected_c2b_confirmation_is_logged_without_the_c2b_secret(client):
    # given: a C2B secret of its own (the conftest's differs from the
    # callback secret)
    assert C2B_SECRET != CALLBACK_SECRET
    # when: a body that is not a C2B request (stored, then a 400)
    with written_by_handlers_of("django.request") as written:
        response = client.generic(
            "POST",
            c2b_url("confirmation"),
            b'{"not": "a confirmation"}',
            content_type="application/json",
        )
    # then: Django's "Bad Request: <path>" line, without the secret
    assert response.status_code == 400
    assert "Bad Request: /api/payment/c2b/confirmation/***" in written[0]
    assert C2B_SECRET not in written[0]


@pytest.fixture
def crashing_confirmation(monkeypatch):
    """A failure inside the C2B view, after the secret was accepted."""

    def _crash(**kwargs):
        raise RuntimeError("the ledger exploded")

    monkeypatch.setattr("payments.api.views.c2b_confirmation_intake", _crash)


def test_the_debug_500_page_for_a_c2b_confirmation_shows_no_c2b_secret(
    settings, crashing_confirmation
):
    # given: the C2B URL settings carry the secret too
    settings.DEBUG = True
    settings.MPESA_C2B_CONFIRMATION_URL = f"https://h.example/c/{C2B_SECRET}"
    settings.MPESA_C2B_VALIDATION_URL = f"https://h.example/v/{C2B_SECRET}"
    client = Client(raise_request_exception=False)
    # when
    with written_by_handlers_of("django.request") as written:
        response = client.post(
            c2b_url("confirmation"),
            as_bytes(c2b_request(account="HYABC234")),
            content_type="application/json",
            headers={"accept": "text/html"},
        )
    # then: Django's technical page and the logged traceback, no secret
    page = response.content.decode()
    assert response.status_code == 500
    assert "the ledger exploded" in page
    assert "/api/payment/c2b/confirmation/" in page
    assert C2B_SECRET not in page
    assert "the ledger exploded" in written[0]
    assert C2B_SECRET not in written[0]
