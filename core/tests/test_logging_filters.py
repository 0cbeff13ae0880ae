import logging
import re
import sys

import pytest

from core.logging_filters import MaskPhoneNumbers, redact


def test_redact_masks_every_phone_format():
    # when
    text = redact("from 254708374149, 0712345678 and +254112345678")
    # then
    assert "254708374149" not in text
    assert "0712345678" not in text
    assert "2547******149" in text


def test_redact_keeps_long_digit_runs_such_as_receipts_and_old_checkout_ids():
    # then
    assert redact("ws_CO_191220191020363925 1234567890123") == (
        "ws_CO_191220191020363925 1234567890123"
    )


@pytest.mark.parametrize(
    "checkout_request_id",
    [
        "ws_CO_011220261234567708374149",
        "ws_CO_28112026031327746708374149",
        "ws_CO_26032026133641276112345678",
    ],
)
def test_a_checkout_request_id_is_logged_without_its_phone_digits(
    caplog, checkout_request_id
):
    # given: real CheckoutRequestIDs end in the payer's last 9 digits
    phone_tail = checkout_request_id[-9:]
    record = logging.LogRecord(
        "payments", logging.INFO, __file__, 1, "query %s", (checkout_request_id,), None
    )
    # when
    MaskPhoneNumbers().filter(record)
    # then: the timestamp part stays for correlation, the number does not
    message = record.getMessage()
    assert phone_tail not in message
    assert not re.search(r"\d{9}" + re.escape(phone_tail[-3:]) + r"\b", message)
    assert message.startswith("query " + checkout_request_id[:20])


def test_redact_hides_the_callback_secret_in_request_lines():
    # when
    text = redact('"POST /api/payment/callback/s3cr3t-Token_x HTTP/1.1" 200 40')
    # then
    assert "s3cr3t" not in text
    assert "/api/payment/callback/***" in text


def test_filter_rewrites_the_record_message():
    # given
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "phone %s", ("254708374149",), None
    )
    # when
    MaskPhoneNumbers().filter(record)
    # then
    assert record.getMessage() == "phone 2547******149"


def _handlers_reaching(name: str) -> list[logging.Handler]:
    """Every handler a record logged on ``name`` is offered to (not pytest's)."""
    handlers, logger = [], logging.getLogger(name)
    while logger:
        handlers += [h for h in logger.handlers if "_pytest" not in type(h).__module__]
        if not logger.propagate:
            break
        logger = logger.parent
    return handlers


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("logger_name", "msg", "args"),
    [
        ("django.request", "Forbidden: %s", ("/api/payment/callback/{secret}",)),
        ("django.request", "Internal Server Error: %s", ("/x/{secret}",)),
        ("django.server", '"%s" %s %s', ("POST /pay/{secret} HTTP/1.1", "200", "40")),
    ],
)
def test_djangos_request_loggers_are_masked_by_every_handler(
    settings, debug, logger_name, msg, args
):
    # given: whichever of Django's own handlers DEBUG turns on
    settings.DEBUG = debug
    secret = settings.MPESA_CALLBACK_SECRET = "Kq8-never-in-a-log-0123456789abcdef"
    handlers = _handlers_reaching(logger_name)
    assert handlers
    for handler in handlers:
        record = logging.LogRecord(
            logger_name,
            logging.WARNING,
            __file__,
            1,
            msg,
            tuple(a.format(secret=secret) for a in args),
            None,
        )
        # when
        emitted = handler.filter(record)
        # then: what the handler would write holds no secret
        if emitted:
            assert secret not in handler.format(record), handler


def test_a_logged_traceback_is_masked_too(settings):
    # given: an error whose message carries the secret and a phone number
    secret = settings.MPESA_CALLBACK_SECRET = "Kq8-never-in-a-log-0123456789abcdef"
    try:
        raise ValueError(f"bad URL /api/payment/callback/{secret} for 254708374149")
    except ValueError:
        record = logging.LogRecord(
            "payments", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    handler = _handlers_reaching("payments")[0]
    # when
    handler.filter(record)
    text = handler.format(record)
    # then
    assert "ValueError" in text
    assert secret not in text
    assert "254708374149" not in text


@pytest.mark.parametrize("endpoint", ["validation", "confirmation"])
def test_redact_hides_the_c2b_secret_in_the_c2b_paths(endpoint):
    # when
    text = redact(f"Bad Request: /api/payment/c2b/{endpoint}/c2b-Only_s3cret")
    # then
    assert "c2b-Only_s3cret" not in text
    assert f"/api/payment/c2b/{endpoint}/***" in text


def test_redact_hides_a_c2b_secret_of_its_own_wherever_it_appears(settings):
    # given: a C2B secret that is not the callback secret
    settings.MPESA_CALLBACK_SECRET = "Kq8-never-in-a-log-0123456789abcdef"
    secret = settings.MPESA_C2B_SECRET = "C2b-never-in-a-log-fedcba9876543210"
    # when
    text = redact(f"registering https://h.example/pay/{secret} failed")
    # then
    assert secret not in text
    assert "https://h.example/pay/***" in text


@pytest.mark.parametrize("endpoint", ["result", "timeout"])
def test_redact_hides_the_result_secret_in_the_result_paths(endpoint):
    # when
    text = redact(f"Bad Request: /api/payment/{endpoint}/Rs-Only_s3cret")
    # then
    assert "Rs-Only_s3cret" not in text
    assert f"/api/payment/{endpoint}/***" in text


@pytest.mark.parametrize(
    "name",
    ["MPESA_RESULT_SECRET", "MPESA_INITIATOR_PASSWORD", "MPESA_B2C_INITIATOR_PASSWORD"],
)
def test_redact_hides_the_initiator_secrets_wherever_they_appear(settings, name):
    # given: one of the refund settings' secrets
    secret = "Init-never-in-a-log#2026&x"
    setattr(settings, name, secret)
    # when
    text = redact(f"initiator failed with {secret} in a message")
    # then
    assert secret not in text
