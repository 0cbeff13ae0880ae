"""The Daraja session reads the environment once, not on every request
(issue 18: requests walked os.environ per call, 12 % of an STK query's
CPU), and still honours the proxy and CA settings an operator sets."""

import pytest
import responses

from payments.daraja import transport


@pytest.fixture
def fresh_session(monkeypatch):
    monkeypatch.setattr(transport, "_session", None)
    monkeypatch.setattr(transport, "_proxies", {})
    yield
    transport._session = None


def test_proxies_come_from_the_environment_per_host(monkeypatch, fresh_session):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "sandbox.local")
    proxies = transport._proxies_for("https://api.safaricom.co.ke/mpesa/x")
    assert proxies["https"] == "http://proxy.internal:3128"
    assert transport._proxies_for("https://sandbox.local/mpesa/x") == {}
    # read once per host: a later change is seen after a restart, not now
    monkeypatch.setenv("HTTPS_PROXY", "http://other:1")
    assert transport._proxies_for("https://api.safaricom.co.ke/y")["https"] == (
        "http://proxy.internal:3128"
    )


def test_the_session_takes_the_ca_bundle_and_ignores_the_rest_of_the_env(
    monkeypatch, fresh_session
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    session = transport.shared_session()
    assert session.verify == "/etc/ssl/company.pem"
    assert session.trust_env is False


@responses.activate
def test_a_request_goes_out_with_the_hosts_proxies(monkeypatch, fresh_session):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    responses.post("https://api.safaricom.co.ke/q", json={"ok": True})
    request = transport.HttpRequest(
        operation="stk_query",
        method="POST",
        url="https://api.safaricom.co.ke/q",
        timeout=(1, 1),
        json={},
    )
    answer = transport.send(transport.shared_session(), request, None)
    assert answer.status_code == 200
    sent = responses.calls[0].request
    assert sent.req_kwargs["proxies"]["https"] == "http://proxy.internal:3128"
