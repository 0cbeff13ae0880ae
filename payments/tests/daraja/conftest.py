"""The Daraja adapter tests' fixtures, once for every module here: the
intercepted HTTP (``rsps``), a recording sleep, an isolated token cache and
a sandbox client built on them."""

import pytest
import responses

from payments.daraja.client import DarajaClient
from payments.tests.daraja.support import RecordingSleep, isolated_cache, make_client


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def cache(tmp_path):
    return isolated_cache(tmp_path)


@pytest.fixture
def client(cache, sleep) -> DarajaClient:
    return make_client(cache, sleep)
