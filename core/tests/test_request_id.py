"""The request id: taken from a sane X-Request-ID, made otherwise, echoed,
and carried into the Celery tasks the request queues."""

import logging
import re

import pytest
from celery.signals import before_task_publish

from core import request_id
from core.request_id import HEADER, current_request_id, request_id_accept
from core.tests.json_log_support import json_log_lines
from hakiyetu.celery import app

pytestmark = pytest.mark.django_db
HEX32 = re.compile(r"[0-9a-f]{32}")


@app.task(name="core.tests.log_one_line")
def log_one_line() -> str | None:
    logging.getLogger("hakiyetu.tests.task").info("task ran")
    return current_request_id()


def test_response_echoes_a_sane_request_id(client):
    # when
    response = client.get("/healthz", headers={HEADER: "abc-123_X.9"})
    # then
    assert response[HEADER] == "abc-123_X.9"


def test_request_without_an_id_gets_a_new_one(client):
    # when
    first = client.get("/healthz")[HEADER]
    second = client.get("/healthz")[HEADER]
    # then
    assert HEX32.fullmatch(first)
    assert first != second


@pytest.mark.parametrize(
    "candidate", ["has space", "x" * 65, "new\nline", "semi;colon", "é"]
)
def test_an_insane_request_id_is_replaced(candidate):
    # when / then
    assert HEX32.fullmatch(request_id_accept(candidate))


def test_the_id_is_forgotten_after_the_request(client):
    # when
    client.get("/healthz", headers={HEADER: "gone-after"})
    # then
    assert current_request_id() is None


def test_api_error_answers_carry_the_id_too(client):
    # when
    response = client.get("/api/no-such-thing/", headers={HEADER: "err-1"})
    # then
    assert response.status_code == 404
    assert response[HEADER] == "err-1"


def test_a_task_queued_during_a_request_carries_its_id_in_the_headers():
    # given
    token = request_id._current.set("req-42")
    headers: dict = {}
    # when
    try:
        before_task_publish.send(sender="core.tests.log_one_line", headers=headers)
    finally:
        request_id._current.reset(token)
    # then
    assert headers["request_id"] == "req-42"


def test_a_task_logs_with_the_id_it_was_queued_with():
    # when: the worker runs a task whose message carries the id
    with json_log_lines() as lines:
        result = log_one_line.apply(headers={"request_id": "req-77"})
    # then
    assert result.get() == "req-77"
    task_lines = [line for line in lines if line.get("message") == "task ran"]
    assert [line["request_id"] for line in task_lines] == ["req-77"]
    assert current_request_id() is None


def test_a_task_run_eagerly_inside_a_request_keeps_the_requests_id():
    # given
    token = request_id._current.set("req-eager")
    # when
    try:
        result = log_one_line.apply()
        after = current_request_id()
    finally:
        request_id._current.reset(token)
    # then
    assert result.get() == "req-eager"
    assert after == "req-eager"
