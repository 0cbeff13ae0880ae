"""SMS backends: the file outbox, and Africa's Talking replaced only at its
HTTP boundary (``responses``); the real API is never called."""

import logging

import pytest
import responses
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from notices.sms import SmsSendError, send_sms
from notices.tests.conftest import sms_sent

AT_SANDBOX = "https://api.sandbox.africastalking.com/version1/messaging"


@pytest.fixture
def africastalking(settings):
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_USERNAME = "sandbox"
    settings.AFRICASTALKING_API_KEY = "at-test-key"
    settings.AFRICASTALKING_SENDER_ID = "HAKIYETU"


def _answer(status: str) -> dict:
    recipient = {"number": "+254712345678", "status": status, "statusCode": 101}
    return {"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [recipient]}}


def test_file_backend_writes_one_file_per_sms(sms_outbox):
    send_sms(to="254712345678", message="Hello")
    send_sms(to="254712345678", message="Again")
    assert sms_sent(sms_outbox) == [
        "To: 254712345678\n\nAgain\n",
        "To: 254712345678\n\nHello\n",
    ]


def test_console_backend_logs_a_masked_phone(settings, caplog):
    settings.SMS_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="notices.sms"):
        send_sms(to="254712345678", message="Hello")
    assert "2547******678" in caplog.text
    assert "254712345678" not in caplog.text


@responses.activate
def test_africastalking_sends_with_sender_id(africastalking):
    responses.post(AT_SANDBOX, json=_answer("Success"), status=201)
    send_sms(to="254712345678", message="Hello")
    [call] = responses.calls
    body = call.request.body
    assert "to=%2B254712345678" in body
    assert "from=HAKIYETU" in body
    assert call.request.headers["apiKey"] == "at-test-key"


@responses.activate
def test_africastalking_refusal_raises(africastalking):
    responses.post(AT_SANDBOX, json=_answer("InvalidPhoneNumber"), status=201)
    with pytest.raises(SmsSendError, match="InvalidPhoneNumber"):
        send_sms(to="254712345678", message="Hello")


@responses.activate
def test_africastalking_unreachable_raises(africastalking):
    responses.post(AT_SANDBOX, body=ConnectionError("down"))
    with pytest.raises(SmsSendError):
        send_sms(to="254712345678", message="Hello")


def test_africastalking_without_credentials_is_a_configuration_error(
    africastalking, settings
):
    settings.AFRICASTALKING_API_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        send_sms(to="254712345678", message="Hello")


def test_deploy_check_warns_when_notices_only_reach_a_console(settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.SMS_BACKEND = "console"
    from notices.checks import check_notice_channels

    ids = [problem.id for problem in check_notice_channels(None)]
    assert ids == ["notices.W001", "notices.W002"]
    call_command("check")  # not a deploy check: nothing raised


def test_a_provider_error_naming_the_api_key_is_stored_masked(africastalking):
    from notices.services import _error_text

    error = _error_text(RuntimeError("bad key at-test-key for 254712345678"))
    assert "at-test-key" not in error
    assert "254712345678" not in error
