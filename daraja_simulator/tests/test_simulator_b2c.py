"""B2C: pays out of its own balance, with its own initiator's password."""

import pytest

from daraja_simulator import SimulatorConfig
from daraja_simulator.tests.fixtures import receiver_fixture  # noqa: F401
from daraja_simulator.tests.initiator_fixtures import (  # noqa: F401 - fixtures
    initiator_fixture,
    money_sim_fixture,
    parameters,
    results_fixture,
)


def test_b2c_pays_and_posts_the_result(initiator, results):
    # when B2C pays 500 to a customer
    ack = initiator.b2c(500).json()

    # then the result names the payment and the money went out
    result = results.results()[0]
    assert result["ResultCode"] == 0
    assert result["OriginatorConversationID"] == ack["OriginatorConversationID"]
    params = parameters(result)
    assert params["TransactionAmount"] == 500
    assert params["TransactionReceipt"] == result["TransactionID"]
    assert params["ReceiverPartyPublicName"] == "254708374149 - John Doe"
    assert "TransactionCompletedDateTime" in params
    money = initiator.control("GET", "money-out")
    assert money["b2c_amount"] == 500
    assert money["b2c_available"] == SimulatorConfig().b2c_balance - 500


@pytest.mark.parametrize("amount", [9, 250_001])
def test_b2c_refuses_amounts_outside_10_to_250000(initiator, amount):
    answer = initiator.b2c(amount)
    assert answer.status_code == 400
    assert answer.json()["errorMessage"] == "Bad Request - Invalid Amount"


def test_b2c_needs_an_originator_conversation_id(initiator):
    answer = initiator.b2c(500, originator="")
    assert answer.status_code == 400
    assert "OriginatorConversationID" in answer.json()["errorMessage"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"InitiatorName": ""}, "InitiatorName"),
        ({"CommandID": "BusinessBuyGoods"}, "CommandID"),
        ({"PartyA": "abc"}, "PartyA"),
        ({"PartyB": "0708374149"}, "PartyB"),
    ],
)
def test_b2c_fields_are_checked(initiator, change, field):
    answer = initiator.post(
        "/mpesa/b2c/v3/paymentrequest", initiator.b2c_body(500) | change
    )
    assert answer.status_code == 400
    assert answer.json()["errorMessage"] == f"Bad Request - Invalid {field}"


def test_b2c_short_of_its_balance_is_result_1(initiator, results):
    # given a B2C account holding KES 100
    initiator.control("POST", "config", {"b2c_balance": 100})
    # when 500 is paid out
    initiator.b2c(500)
    # then the balance is insufficient, and nothing went out
    assert results.results()[0]["ResultCode"] == 1
    assert initiator.control("GET", "money-out")["b2c_amount"] == 0


def test_b2c_checks_its_own_initiator_password(initiator, results):
    # given a B2C initiator whose password differs from the other one
    initiator.control("POST", "config", {"b2c_initiator_password": "B2c-only#1"})
    # when the general initiator's password is sent
    initiator.b2c(500)
    initiator.b2c(500, originator="hy-b2c-2", password="B2c-only#1")
    # then the first is 2001, the second pays
    first, second = results.results(2)
    assert {first["ResultCode"], second["ResultCode"]} == {2001, 0}


def test_config_never_shows_the_initiator_passwords(initiator):
    config = initiator.control("GET", "config")
    assert config["initiator_password"] == "***"
    assert config["b2c_initiator_password"] == "***"
