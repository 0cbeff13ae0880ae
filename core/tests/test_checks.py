"""``check --deploy`` refuses what only belongs on a developer's machine.

An unmigrated database (no user table): see test_deploy_check.py.
"""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from bookings.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _ids(**overrides) -> set[str]:
    with override_settings(**overrides):
        messages = run_checks(include_deployment_checks=True)
    return {m.id for m in messages if m.id.startswith("hakiyetu.")}


def test_debug_is_a_deploy_error():
    # given / when / then
    assert "hakiyetu.E001" in _ids(DEBUG=True)
    assert "hakiyetu.E001" not in _ids(DEBUG=False)


@pytest.mark.parametrize("username", ["demo-client", "demo-staff"])
def test_a_demo_user_is_a_deploy_error(username):
    # given: seed_demo's users, with their published password
    UserFactory(username=username)
    # when / then
    assert "hakiyetu.E002" in _ids(DEBUG=False)


def test_no_demo_user_no_error():
    # given
    UserFactory(username="wanjiku")
    # when / then
    assert "hakiyetu.E002" not in _ids(DEBUG=False)


def test_the_checks_are_silent_without_deploy():
    # given
    UserFactory(username="demo-client")
    # when
    with override_settings(DEBUG=True):
        messages = run_checks()
    # then
    assert not [m for m in messages if m.id.startswith("hakiyetu.")]


@pytest.mark.parametrize(
    ("proxy_ssl_header", "num_proxies", "warned"),
    [(True, 0, True), (True, 1, False), (False, 0, False)],
)
def test_a_proxy_with_no_proxy_count_is_a_deploy_warning(
    settings, proxy_ssl_header, num_proxies, warned
):
    # given: behind a TLS proxy every client would share the proxy's address
    header = ("HTTP_X_FORWARDED_PROTO", "https") if proxy_ssl_header else None
    # when
    ids = _ids(DEBUG=False, SECURE_PROXY_SSL_HEADER=header, NUM_PROXIES=num_proxies)
    # then
    assert ("hakiyetu.W001" in ids) is warned
