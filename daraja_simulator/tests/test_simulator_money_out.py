"""Faults of the initiator APIs, and the money ledger: money in minus
money out is the balance."""

import time

import pytest

from daraja_simulator.tests.fixtures import receiver_fixture  # noqa: F401
from daraja_simulator.tests.initiator_fixtures import (  # noqa: F401 - fixtures
    initiator_fixture,
    money_sim_fixture,
    parameters,
    results_fixture,
)


def _fault(initiator, **rule):
    initiator.control("POST", "faults", rule)


def test_queue_timeout_posts_a_notice_instead_of_the_result(initiator, results):
    # given the next reversal times out in M-Pesa's queue
    receipt = initiator.paid_receipt(3000)
    _fault(initiator, fault="queue_timeout", endpoint="reversal")
    # when it is sent
    ack = initiator.reverse(receipt, 3000).json()
    # then the QueueTimeOutURL gets a notice and the ResultURL nothing
    notice = results.results(kind="timeout")[0]
    assert notice["ConversationID"] == ack["ConversationID"]
    assert [kind for kind, _ in results.posts] == ["timeout"]
    # but the money did go out: only Transaction Status can tell
    initiator.status(OriginalConversationID=ack["ConversationID"])
    assert results.results()[0]["ResultCode"] == 0
    assert initiator.control("GET", "money-out")["reversal_amount"] == 3000


def test_queue_timeout_not_processed_moves_nothing(initiator, results):
    receipt = initiator.paid_receipt(3000)
    _fault(initiator, fault="queue_timeout", endpoint="reversal", processed=False)
    ack = initiator.reverse(receipt, 3000).json()
    results.results(kind="timeout")
    initiator.status(OriginalConversationID=ack["ConversationID"])
    assert results.results()[0]["ResultCode"] == "R000002"
    assert initiator.control("GET", "money-out")["money_out_amount"] == 0


def test_no_result_posts_nothing_but_moves_the_money(initiator, results):
    _fault(initiator, fault="no_result", endpoint="b2c")
    initiator.b2c(500)
    time.sleep(0.2)
    assert results.posts == []
    money = initiator.control("GET", "money-out")
    assert money["b2c_amount"] == 500
    assert money["requests"][0]["deliveries"] == [
        {"kind": "result", "state": "suppressed"}
    ]


def test_delayed_result_comes_later(initiator, results):
    _fault(initiator, fault="delayed_result", endpoint="b2c", delay=0.4)
    started = time.monotonic()
    initiator.b2c(500)
    results.results()
    assert time.monotonic() - started >= 0.4


def test_duplicate_result_posts_the_same_result_twice(initiator, results):
    _fault(initiator, fault="duplicate_result", endpoint="b2c")
    initiator.b2c(500)
    first, second = results.results(2)
    assert first == second
    assert initiator.control("GET", "money-out")["b2c_count"] == 1


def test_wrong_credential_fault_is_2001_with_the_right_password(initiator, results):
    receipt = initiator.paid_receipt(3000)
    _fault(initiator, fault="wrong_credential", endpoint="reversal")
    initiator.reverse(receipt, 3000)
    assert results.results()[0]["ResultCode"] == 2001


def test_insufficient_balance_fault_on_a_reversal_is_1(initiator, results):
    receipt = initiator.paid_receipt(3000)
    _fault(initiator, fault="insufficient_balance", endpoint="reversal")
    initiator.reverse(receipt, 3000)
    assert results.results()[0]["ResultCode"] == 1
    assert initiator.control("GET", "money-out")["money_out_amount"] == 0


def test_duplicate_originator_fault_refuses_as_already_seen(initiator, results):
    # given Daraja has (as far as it says) seen this id before
    _fault(initiator, fault="duplicate_originator", endpoint="b2c")
    # when B2C is asked
    answer = initiator.b2c(500)
    # then it is a Daraja error answer and nothing moved
    assert answer.status_code == 500
    assert answer.json()["errorCode"] == "500.001.1001"
    assert "Duplicate" in answer.json()["errorMessage"]
    assert initiator.control("GET", "money-out")["b2c_count"] == 0


def test_http_error_on_a_reversal_moves_nothing(initiator):
    receipt = initiator.paid_receipt(3000)
    _fault(initiator, fault="http_error", endpoint="reversal", status=503)
    answer = initiator.reverse(receipt, 3000)
    assert answer.status_code == 503
    assert initiator.control("GET", "money-out")["requests"] == []


@pytest.mark.parametrize("fault", ["queue_timeout", "no_result", "duplicate_result"])
def test_initiator_faults_are_accepted_by_the_control_api(initiator, fault):
    answer = initiator.control(
        "POST", "faults", {"fault": fault, "endpoint": "transaction_status"}
    )
    assert answer["faults"][0]["fault"] == fault


def test_money_in_minus_money_out_is_the_balance(initiator, results):
    # given two payments in, one reversed, one partly refunded by B2C
    first = initiator.paid_receipt(3000)
    initiator.paid_receipt(2000)
    initiator.reverse(first, 3000)
    initiator.b2c(500)
    results.results(2)
    # when the ledger is read
    ledger = initiator.control("GET", "ledger?payments=0")
    # then money in - money out == the balance
    assert ledger["money_in_amount"] == 5000
    assert ledger["money_out_amount"] == 3500
    assert ledger["net_balance"] == 1500
    assert ledger["reversal_amount"] == 3000
    assert ledger["b2c_amount"] == 500


def test_reset_forgets_the_money_out(initiator, results):
    initiator.b2c(500)
    results.results()
    initiator.control("POST", "reset", {})
    assert initiator.control("GET", "money-out")["money_out_amount"] == 0
