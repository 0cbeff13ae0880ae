"""LOG_FORMAT=json: one JSON object per line, masked like the text lines,
each carrying the request id."""

import logging

import pytest

from core.logging_config import logging_config
from core.request_id import HEADER, RequestIdFilter
from core.tests.json_log_support import json_log_lines

pytestmark = pytest.mark.django_db
logger = logging.getLogger("hakiyetu.tests.json")
SECRET = "cb-secret-that-must-not-leak-42"
PHONE = "254708374149"


def test_json_line_is_one_object_with_the_usual_fields():
    # when
    with json_log_lines() as lines:
        logger.info("booking %s paid", 7)
    # then
    line = lines[0]
    assert line["message"] == "booking 7 paid"
    assert line["level"] == "INFO"
    assert line["name"] == "hakiyetu.tests.json"
    assert "time" in line
    assert line["request_id"] is None


def test_json_line_masks_phones_and_secrets_everywhere(settings):
    # given
    settings.MPESA_CALLBACK_SECRET = SECRET
    # when
    with json_log_lines() as lines:
        try:
            raise ValueError(f"bad body from {PHONE} at /api/payment/callback/{SECRET}")
        except ValueError:
            logger.exception(
                "callback %s failed for %s",
                f"/api/payment/callback/{SECRET}",
                PHONE,
                extra={"payer": PHONE, "url": f"https://x/?s={SECRET}"},
            )
    # then
    raw = lines[-1]["_raw"]
    assert PHONE not in raw
    assert SECRET not in raw
    line = lines[0]
    assert "2547******149" in line["message"]
    assert "ValueError" in line["exc_info"]
    assert line["payer"] == "2547******149"


def test_unknown_log_format_is_refused():
    # when / then
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")


def test_every_line_of_a_request_carries_its_id(client):
    # when: a callback with a wrong secret logs a warning
    with json_log_lines() as lines:
        response = client.post(
            "/api/payment/callback/wrong",
            b"{}",
            content_type="application/json",
            headers={HEADER: "edge-7f3a.1"},
        )
    # then
    assert response[HEADER] == "edge-7f3a.1"
    names = ("payments.api.callback_security", "django.request")
    logged = [line for line in lines if line.get("name") in names]
    assert [line["name"] for line in logged] == list(names)
    assert {line["request_id"] for line in logged} == {"edge-7f3a.1"}


def test_django_request_lines_in_json_never_show_the_callback_secret(client, settings):
    # given: a request to the callback URL, answered 400 (not a callback)
    settings.MPESA_CALLBACK_SECRET = SECRET
    # when
    with json_log_lines() as lines:
        response = client.post(
            f"/api/payment/callback/{SECRET}", b"{}", content_type="application/json"
        )
    # then: django.request logs the request object itself as an extra field
    assert response.status_code == 400
    assert any(line.get("name") == "django.request" for line in lines)
    assert SECRET not in lines[-1]["_raw"]


def test_text_lines_show_a_dash_outside_a_request():
    # given the text format's filter
    config = logging_config(log_format="text", level="INFO")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    RequestIdFilter(**{"default": config["filters"]["request_id"]["default"]}).filter(
        record
    )
    # when
    line = logging.Formatter(config["formatters"]["plain"]["format"]).format(record)
    # then
    assert line.endswith("INFO x [-] hello")
