import logging

from hakiyetu.logging_filters import MaskPhoneNumbers, redact


def test_redact_masks_every_phone_format():
    # when
    text = redact("from 254708374149, 0712345678 and +254112345678")
    # then
    assert "254708374149" not in text
    assert "0712345678" not in text
    assert "2547******149" in text


def test_redact_keeps_long_digit_runs_such_as_checkout_ids():
    # then
    assert (
        redact("ws_CO_28112026031327746708374149") == "ws_CO_28112026031327746708374149"
    )


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
