"""Simulator: fault switches, deterministic and by seeded rate."""

import time

import pytest
import requests

from daraja_simulator import SimulatorConfig, SimulatorServer
from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    KEY,
    PASSKEY,
    PUSH_PATH,
    SECRET,
    DarajaCaller,
    daraja_fixture,
    receiver_fixture,
    simulator_fixture,
    wait_until,
)


def _fault(daraja, **rule):
    return daraja.control("POST", "faults", rule)


def test_fault_duplicate_callback_is_sent_twice(daraja, receiver):
    # given
    _fault(daraja, fault="duplicate_callback")

    # when
    daraja.push()
    wait_until(lambda: len(receiver.bodies) == 2)

    # then
    assert receiver.bodies[0] == receiver.bodies[1]
    kinds = [c["kind"] for c in daraja.control("GET", "callbacks")["callbacks"]]
    assert sorted(kinds) == ["duplicate", "first"]


def test_fault_applies_to_next_push_only(daraja, receiver):
    # given
    _fault(daraja, fault="duplicate_callback")
    daraja.push(phone="254722000001")
    wait_until(lambda: len(receiver.bodies) == 2)

    # when
    daraja.push(phone="254722000002")
    wait_until(lambda: len(receiver.bodies) == 3)
    time.sleep(0.1)

    # then
    assert len(receiver.bodies) == 3


def test_fault_lost_callback_still_moves_money(daraja, receiver):
    # given
    _fault(daraja, fault="lost_callback")
    checkout_id = daraja.push(Amount=1500).json()["CheckoutRequestID"]

    # when
    body = wait_until(
        lambda: (r := daraja.query(checkout_id)).status_code == 200 and r.json()
    )
    time.sleep(0.1)

    # then
    assert body["ResultCode"] == "0"
    assert receiver.bodies == []
    callbacks = daraja.control("GET", "callbacks")["callbacks"]
    assert [c["state"] for c in callbacks] == ["suppressed"]
    assert daraja.control("GET", "ledger")["successful_amount"] == 1500


def test_fault_late_callback_arrives_after_its_delay(daraja, receiver):
    # given
    _fault(daraja, fault="late_callback", delay=0.5)
    checkout_id = daraja.push().json()["CheckoutRequestID"]
    wait_until(lambda: daraja.query(checkout_id).status_code == 200)

    # when
    time.sleep(0.2)

    # then
    assert receiver.bodies == []
    wait_until(lambda: receiver.bodies)
    assert daraja.control("GET", "callbacks")["callbacks"][0]["kind"] == "late"


def test_fault_reorder_items(daraja, receiver):
    # given
    _fault(daraja, fault="reorder_items")

    # when
    daraja.push()
    items = wait_until(lambda: receiver.bodies)[0]["Body"]["stkCallback"][
        "CallbackMetadata"
    ]["Item"]

    # then
    assert [i["Name"] for i in items] == [
        "PhoneNumber",
        "TransactionDate",
        "Balance",
        "MpesaReceiptNumber",
        "Amount",
    ]


def test_fault_amount_mismatch_pays_other_amount(daraja, receiver):
    # given
    _fault(daraja, fault="amount_mismatch", paid_amount=2999)

    # when
    daraja.push(Amount=3000)
    items = wait_until(lambda: receiver.bodies)[0]["Body"]["stkCallback"][
        "CallbackMetadata"
    ]["Item"]

    # then
    amount = next(i["Value"] for i in items if i["Name"] == "Amount")
    assert amount == 2999
    ledger = daraja.control("GET", "ledger")
    assert ledger["successful_amount"] == 2999
    assert ledger["payments"][0]["amount"] == 3000


def test_fault_for_one_phone_spares_others(daraja, receiver):
    # given
    _fault(daraja, fault="lost_callback", phone="254722000009")

    # when
    daraja.push(phone="254722000001")

    # then
    wait_until(lambda: receiver.bodies)
    assert len(daraja.control("GET", "faults")["faults"]) == 1


def test_fault_push_429_has_retry_after_and_no_prompt(daraja):
    # given
    _fault(daraja, fault="http_error", endpoint="push", status=429, retry_after=3)

    # when
    response = daraja.push()

    # then
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["errorCode"] == "500.003.02"
    assert daraja.control("GET", "ledger")["pushes"] == 0


def test_fault_oauth_503_is_a_gateway_page(daraja):
    # given
    _fault(daraja, fault="http_error", endpoint="oauth", status=503)

    # when
    response = daraja.get_token()

    # then
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")


def test_fault_query_500_is_json_error(daraja):
    # given
    checkout_id = daraja.push().json()["CheckoutRequestID"]
    _fault(daraja, fault="http_error", endpoint="query", status=500)

    # when
    response = daraja.query(checkout_id)

    # then
    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.003.1001"


def test_fault_slow_push_still_happens(daraja, receiver):
    # given
    _fault(daraja, fault="slow", endpoint="push", seconds=0.5)
    token = daraja.token

    # when
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            daraja.base_url + PUSH_PATH,
            json=daraja.push_body(),
            headers={"Authorization": f"Bearer {token}"},
            timeout=(1, 0.1),
        )

    # then
    wait_until(lambda: receiver.bodies)
    assert daraja.control("GET", "ledger")["successful_count"] == 1


def test_fault_probability_one_always_fires(daraja, receiver):
    # given
    _fault(daraja, fault="lost_callback", probability=1.0)

    # when
    for n in range(3):
        daraja.push(phone=f"25472200000{n}")
    wait_until(lambda: daraja.control("GET", "ledger")["processing"] == 0)

    # then
    assert receiver.bodies == []
    assert len(daraja.control("GET", "faults")["faults"]) == 1


def _faulted_pushes(receiver_url: str) -> list[bool]:
    """Which of 20 pushes lost their callback at a 50% rate, seed 99."""
    config = SimulatorConfig(
        consumer_key=KEY,
        consumer_secret=SECRET,
        passkey=PASSKEY,
        port=0,
        callback_delay=5,
        seed=99,
    )
    with SimulatorServer(config) as server:
        caller = DarajaCaller(server.base_url, receiver_url)
        caller.control("POST", "faults", {"fault": "lost_callback", "probability": 0.5})
        for n in range(20):
            caller.push(phone=f"2547220000{n:02d}")
        payments = caller.control("GET", "ledger")["payments"]
    return ["lost_callback" in p["faults"] for p in payments]


def test_fault_rates_are_reproducible_with_seed(receiver):
    # when
    first = _faulted_pushes(receiver.url)
    second = _faulted_pushes(receiver.url)

    # then
    assert first == second
    assert 0 < sum(first) < 20


@pytest.mark.parametrize(
    "rule",
    [
        {"fault": "explode"},
        {"fault": "slow", "endpoint": "b2b"},
        {"fault": "slow", "probability": 2},
        {"fault": "slow", "colour": "red"},
    ],
)
def test_fault_bad_rule_is_400(daraja, rule):
    # when
    response = requests.post(
        daraja.base_url + "/simulator/faults", json=rule, timeout=5
    )

    # then
    assert response.status_code == 400
    assert "error" in response.json()


def test_fault_status_list_picks_among_statuses(daraja):
    # given
    _fault(
        daraja,
        fault="http_error",
        endpoint="oauth",
        status=[500, 429],
        probability=1.0,
    )

    # when
    statuses = {daraja.get_token().status_code for _ in range(12)}

    # then
    assert statuses == {500, 429}
