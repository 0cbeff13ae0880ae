"""Simulator: the control API (scenarios, config, reset, logs, decide)."""

import argparse

import pytest
import requests

from daraja_simulator import config as simulator_config
from daraja_simulator.server import SimulatorServer
from daraja_simulator.tests.fixtures import (  # noqa: F401 - fixtures
    OAUTH_PATH,
    PUSH_PATH,
    daraja_fixture,
    receiver_fixture,
    simulator_fixture,
    wait_until,
)


def _result_codes(receiver, count):
    wait_until(lambda: len(receiver.bodies) >= count)
    return [b["Body"]["stkCallback"]["ResultCode"] for b in receiver.bodies]


def test_control_scenario_for_phone(daraja, receiver):
    # given
    daraja.control("POST", "scenarios", {"phone": "254722000001", "result_code": 2001})

    # when
    daraja.push(phone="254722000001")

    # then
    assert _result_codes(receiver, 1) == [2001]


def test_control_global_scenario_is_used_once(daraja, receiver):
    # given
    daraja.control("POST", "scenarios", {"result_code": "1"})
    daraja.push(phone="254722000001")
    _result_codes(receiver, 1)

    # when
    daraja.push(phone="254722000001")

    # then
    assert _result_codes(receiver, 2) == [1, 0]


def test_control_scenario_with_count_none_persists(daraja, receiver):
    # given
    daraja.control("POST", "scenarios", {"result_code": 1037, "count": None})

    # when
    daraja.push(phone="254722000001")
    daraja.push(phone="254722000002")

    # then
    assert _result_codes(receiver, 2) == [1037, 1037]
    assert len(daraja.control("GET", "scenarios")["scenarios"]) == 1


def test_control_scenario_string_code_and_desc(daraja, receiver):
    # given
    daraja.control(
        "POST",
        "scenarios",
        {"result_code": "SFC_IC0003", "result_desc": "The operator does not exist."},
    )

    # when
    daraja.push()

    # then
    callback = wait_until(lambda: receiver.bodies)[0]["Body"]["stkCallback"]
    assert callback["ResultCode"] == "SFC_IC0003"
    assert callback["ResultDesc"] == "The operator does not exist."


def test_control_scenario_delay(daraja):
    # given
    daraja.control("POST", "scenarios", {"result_code": 0, "delay": 30})
    checkout_id = daraja.push().json()["CheckoutRequestID"]

    # when
    response = daraja.query(checkout_id)

    # then
    assert response.json()["errorMessage"] == "The transaction is being processed"


def test_control_decide_ends_open_prompts(daraja, receiver):
    # given
    daraja.control("POST", "config", {"callback_delay": 30})
    checkout_id = daraja.push().json()["CheckoutRequestID"]

    # when
    decided = daraja.control("POST", "decide", {})

    # then
    assert decided == {"decided": [checkout_id]}
    assert daraja.query(checkout_id).json()["ResultCode"] == "0"
    wait_until(lambda: receiver.bodies)


def test_control_reset_forgets_pushes_and_logs(daraja, receiver):
    # given
    daraja.control("POST", "config", {"callback_delay": 30})
    daraja.control("POST", "faults", {"fault": "lost_callback", "count": 5})
    daraja.push()

    # when
    daraja.control("POST", "reset")

    # then
    assert daraja.control("GET", "ledger")["pushes"] == 0
    assert daraja.control("GET", "requests")["count"] == 0
    assert daraja.control("GET", "faults")["faults"] == []
    assert daraja.push().status_code == 200  # token kept, phone unlocked


def test_control_reset_with_tokens(daraja):
    # given
    daraja.push()

    # when
    daraja.control("POST", "reset", {"tokens": True})

    # then
    assert daraja.push().json()["errorCode"] == "404.001.03"


def test_control_requests_log_filters_by_path_and_since(daraja):
    # given
    daraja.push()
    last = daraja.control("GET", "requests")["requests"][-1]["id"]
    daraja.push(Amount=0)

    # when
    log = daraja.control("GET", f"requests?path={PUSH_PATH}&since={last}")

    # then
    assert log["count"] == 1
    entry = log["requests"][0]
    assert entry["body"]["Amount"] == 0
    assert entry["response_status"] == 400
    assert entry["method"] == "POST"


def test_control_requests_log_counts_oauth(daraja):
    # given
    daraja.push()
    daraja.push(phone="254722000001")

    # when
    log = daraja.control("GET", f"requests?path={OAUTH_PATH}")

    # then
    assert log["count"] == 1


def test_control_config_change_and_bad_key(daraja):
    # when
    changed = daraja.control("POST", "config", {"callback_delay": 0.5})
    bad = requests.post(
        daraja.base_url + "/simulator/config", json={"passkey": "x"}, timeout=5
    )

    # then
    assert changed["callback_delay"] == 0.5
    assert changed["passkey"] == "***"
    assert bad.status_code == 400


def test_control_index_documents_phone_table(daraja):
    # when
    index = daraja.control("GET", "")

    # then
    assert index["phones"]["254708374149"]["result_code"] == 0
    assert index["phones"]["254711xxxxxx"]["result_code"] == 1032
    assert "GET|POST|DELETE /simulator/faults" in index["control"]


def test_control_unknown_route_is_404(daraja):
    # when
    response = requests.get(daraja.base_url + "/simulator/nope", timeout=5)

    # then
    assert response.status_code == 404


def test_control_ledger_without_payments(daraja, receiver):
    # given
    daraja.push()
    wait_until(lambda: receiver.bodies)
    # the simulator records "delivered" once our answer is back, a moment
    # after the receiver has the body
    wait_until(
        lambda: "delivered" in daraja.control("GET", "ledger?payments=0")["callbacks"]
    )

    # when
    ledger = daraja.control("GET", "ledger?payments=0")

    # then
    assert "payments" not in ledger
    assert ledger["successful_count"] == 1
    assert ledger["callbacks"] == {"delivered": 1}


def test_cli_reads_environment_defaults():
    # given
    parser = argparse.ArgumentParser()
    env = {"MPESA_CONSUMER_KEY": "k", "MPESA_BUSINESS_SHORT_CODE": "600000"}
    simulator_config.add_arguments(parser, simulator_config.env_defaults(env))

    # when
    options = vars(parser.parse_args(["--port", "9000", "--callback-delay", "0.2"]))
    config = simulator_config.config_from_arguments(options)

    # then
    assert config.consumer_key == "k"
    assert config.short_code == "600000"
    assert config.passkey == simulator_config.SANDBOX_PASSKEY
    assert config.port == 9000
    assert config.callback_delay == 0.2


def test_control_endpoints_never_echo_credentials(daraja, receiver):
    # given: a push and its delivered callback (the URL ends in "t0k")
    stamp = daraja.timestamp()
    password = daraja.password(stamp)
    daraja.push(Timestamp=stamp, Password=password)
    daraja.query("ws_CO_unknown")
    wait_until(lambda: receiver.bodies)
    # when
    answers = {
        name: requests.get(f"{daraja.base_url}/simulator/{name}", timeout=5).text
        for name in ("", "config", "requests", "callbacks", "ledger")
    }
    # then: like /simulator/config, every log masks the secrets
    for name, text in answers.items():
        assert password not in text, name
        assert daraja.token not in text, name
        assert "/payments/cb/t0k" not in text, name
        assert simulator_config.SANDBOX_PASSKEY not in text, name
    assert "/payments/cb/***" in answers["callbacks"]
    assert '"Authorization": "Bearer ***"' in answers["requests"]


@pytest.fixture
def served(monkeypatch) -> dict:
    """Records the config the simulator would serve, instead of serving."""
    seen: dict = {}
    monkeypatch.setattr(
        SimulatorServer, "serve_forever", lambda self: seen.update(config=self.config)
    )
    return seen


@pytest.mark.parametrize("debug", ["0", ""])
def test_cli_refuses_to_start_with_debug_off(monkeypatch, served, capsys, debug):
    # given
    from daraja_simulator.__main__ import main

    monkeypatch.setenv("DEBUG", debug)
    # when / then
    with pytest.raises(SystemExit):
        main(["--port", "0"])
    assert "--allow-production" in capsys.readouterr().err
    assert served == {}


@pytest.mark.parametrize(("debug", "argv"), [("1", []), ("0", ["--allow-production"])])
def test_cli_starts_with_debug_on_or_when_allowed(monkeypatch, served, debug, argv):
    # given
    from daraja_simulator.__main__ import main

    monkeypatch.setenv("DEBUG", debug)
    # when
    main(["--port", "0", *argv])
    # then
    assert "config" in served
