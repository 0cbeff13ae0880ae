"""The shared OAuth token: caching, expiry, no stampede, refresh on refusal."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
import time_machine

from payments.daraja.exceptions import DarajaAuthError, DarajaUnavailable
from payments.daraja.tokens import EXPIRY_MARGIN_SECONDS, TokenStore
from payments.tests.daraja.support import (
    BASE_URL,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    OAUTH_URL,
    PUSH_URL,
    TOKEN,
    RecordingSleep,
    add_token,
    calls_to,
    load,
    make_client,
    push_kwargs,
)

START = datetime(2024, 7, 10, 9, 0, tzinfo=UTC).timestamp()


def _store(cache) -> TokenStore:
    return TokenStore(
        cache, base_url=BASE_URL, consumer_key=CONSUMER_KEY, lock_seconds=1.0
    )


def test_access_token_sends_basic_auth_and_grant_type(rsps, client):
    # given Daraja issues a token
    add_token(rsps)

    # when the client asks for one
    token = client.access_token()

    # then it used HTTP Basic with the consumer key and secret
    assert token == TOKEN
    request = calls_to(rsps, OAUTH_URL)[0].request
    assert request.method == "GET"
    expected = requests.auth._basic_auth_str(CONSUMER_KEY, CONSUMER_SECRET)
    assert request.headers["Authorization"] == expected


def test_access_token_thousand_pushes_cost_one_oauth_request(rsps, client):
    # given Daraja issues one token and accepts every push
    add_token(rsps)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when 1,000 pushes are made within the token's lifetime
    for _ in range(1000):
        client.stk_push(**push_kwargs())

    # then exactly one OAuth request was made
    assert len(calls_to(rsps, OAUTH_URL)) == 1
    assert len(calls_to(rsps, PUSH_URL)) == 1000


def test_access_token_accepts_expires_in_as_a_string(rsps, client):
    # given Daraja answers expires_in as the string "3599"
    add_token(rsps, "oauth_success_string_expiry")

    # when the token is asked for twice
    first = client.access_token()
    second = client.access_token()

    # then it was fetched once and cached
    assert first == second == load("oauth_success_string_expiry")["access_token"]
    assert len(calls_to(rsps, OAUTH_URL)) == 1


def test_access_token_is_reused_until_the_refresh_margin(rsps, client):
    # given a token issued for 3599 s
    add_token(rsps)
    with time_machine.travel(START, tick=False) as clock:
        client.access_token()

        # when it is asked for one second before expiry minus the margin
        clock.shift(timedelta(seconds=3599 - EXPIRY_MARGIN_SECONDS - 1))
        client.access_token()

    # then no new token was fetched
    assert len(calls_to(rsps, OAUTH_URL)) == 1


def test_access_token_is_refreshed_at_the_margin_before_expiry(rsps, client):
    # given a token issued for 3599 s
    add_token(rsps)
    with time_machine.travel(START, tick=False) as clock:
        client.access_token()

        # when it is asked for once the safety margin is reached
        clock.shift(timedelta(seconds=3599 - EXPIRY_MARGIN_SECONDS))
        client.access_token()

    # then a new token was fetched, at least 60 s before Daraja's expiry
    assert len(calls_to(rsps, OAUTH_URL)) == 2
    assert EXPIRY_MARGIN_SECONDS >= 60


def test_access_token_not_cached_when_lifetime_is_shorter_than_margin(rsps, client):
    # given Daraja issues a token that lives less than the margin
    rsps.get(OAUTH_URL, json={"access_token": "shortlived", "expires_in": 30})

    # when the token is asked for twice
    client.access_token()
    client.access_token()

    # then it was fetched each time rather than used near its expiry
    assert len(calls_to(rsps, OAUTH_URL)) == 2


def test_access_token_twenty_threads_share_one_oauth_request(rsps, cache):
    # given a slow OAuth answer and 20 threads, each with its own client
    def slow_token(request):
        time.sleep(0.3)
        return 200, {}, '{"access_token": "slowtoken123", "expires_in": "3599"}'

    rsps.add_callback(responses.GET, OAUTH_URL, callback=slow_token)
    clients = [make_client(cache) for _ in range(20)]
    barrier = threading.Barrier(20)
    tokens: list[str] = []

    def worker(client):
        barrier.wait()
        tokens.append(client.access_token())

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]

    # when they all ask for a token at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # then exactly one OAuth request was made and all got its token
    assert len(calls_to(rsps, OAUTH_URL)) == 1
    assert tokens == ["slowtoken123"] * 20


def test_access_token_waits_for_another_process_holding_the_lock(rsps, cache, client):
    # given another process holds the refresh lock and stores its token soon
    add_token(rsps)
    store = _store(cache)
    cache.add(store.lock_key, "other-process", timeout=5)

    def other_process():
        time.sleep(0.2)
        entry = {"token": "from-other-process", "refresh_at": time.time() + 600}
        cache.set(store.key, entry, timeout=600)
        cache.delete(store.lock_key)

    helper = threading.Thread(target=other_process)
    helper.start()

    # when this process needs a token
    token = client.access_token()
    helper.join()

    # then it used the other process's token without calling OAuth
    assert token == "from-other-process"
    assert calls_to(rsps, OAUTH_URL) == []


def test_token_store_takes_over_when_the_lock_holder_died(cache):
    # given a lock left by a crashed process, expiring after 1 s
    store = _store(cache)
    cache.add(store.lock_key, "crashed-process", timeout=1)
    fetches = []

    def fetch():
        fetches.append(1)
        return "after-takeover", 3599

    # when a token is obtained
    token = store.obtain(fetch)

    # then this process fetched it once the dead lock expired
    assert token == "after-takeover"
    assert fetches == [1]
    assert cache.get(store.lock_key) is None


def test_stk_push_refreshes_an_invalid_token_and_retries_once(rsps, client):
    # given Daraja refuses the first token once, then accepts the push
    rsps.get(OAUTH_URL, json={"access_token": "old-token", "expires_in": 3599})
    rsps.get(OAUTH_URL, json={"access_token": "new-token", "expires_in": 3599})
    rsps.post(PUSH_URL, status=404, json=load("invalid_access_token"))
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push is made
    result = client.stk_push(**push_kwargs())

    # then the token was refreshed once and the push sent twice in all
    assert result.checkout_request_id == load("stk_push_accepted")["CheckoutRequestID"]
    pushes = calls_to(rsps, PUSH_URL)
    assert len(calls_to(rsps, OAUTH_URL)) == 2
    assert [p.request.headers["Authorization"] for p in pushes] == [
        "Bearer old-token",
        "Bearer new-token",
    ]
    assert client.access_token() == "new-token"


def test_stk_push_gives_up_after_one_refresh(rsps, client):
    # given Daraja refuses every token
    rsps.get(OAUTH_URL, json={"access_token": "old-token", "expires_in": 3599})
    rsps.get(OAUTH_URL, json={"access_token": "new-token", "expires_in": 3599})
    rsps.post(PUSH_URL, status=404, json=load("invalid_access_token"))

    # when a push is made
    with pytest.raises(DarajaAuthError) as excinfo:
        client.stk_push(**push_kwargs())

    # then it refreshed once and retried once, not more
    assert excinfo.value.error_code == "404.001.03"
    assert len(calls_to(rsps, OAUTH_URL)) == 2
    assert len(calls_to(rsps, PUSH_URL)) == 2


def test_stk_push_refreshes_on_http_401(rsps, client):
    # given Daraja answers a bare 401 to the first push
    rsps.get(OAUTH_URL, json={"access_token": "old-token", "expires_in": 3599})
    rsps.get(OAUTH_URL, json={"access_token": "new-token", "expires_in": 3599})
    rsps.post(PUSH_URL, status=401, body="")
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))

    # when a push is made
    client.stk_push(**push_kwargs())

    # then it refreshed the token and succeeded
    assert len(calls_to(rsps, OAUTH_URL)) == 2


def test_refresh_keeps_a_fresher_token_stored_by_another_process(rsps, cache, client):
    # given another process stores a new token while our push is refused
    store = _store(cache)
    add_token(rsps)

    def refused_after_other_refresh(request):
        entry = {"token": "fresh-elsewhere", "refresh_at": time.time() + 600}
        cache.set(store.key, entry, timeout=600)
        return (
            404,
            {},
            '{"errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}',
        )

    rsps.add_callback(responses.POST, PUSH_URL, callback=refused_after_other_refresh)
    rsps.post(PUSH_URL, json=load("stk_push_accepted"))
    client.access_token()

    # when the push is retried after the refusal
    client.stk_push(**push_kwargs())

    # then it used the other process's token instead of fetching another
    assert len(calls_to(rsps, OAUTH_URL)) == 1
    last = calls_to(rsps, PUSH_URL)[-1].request
    assert last.headers["Authorization"] == "Bearer fresh-elsewhere"


@pytest.mark.parametrize(
    ("status", "fixture"),
    [(400, "oauth_invalid_credentials"), (400, "oauth_invalid_grant"), (401, None)],
)
def test_access_token_wrong_credentials_raise_auth_error(rsps, client, status, fixture):
    # given Daraja refuses the consumer key and secret
    rsps.get(OAUTH_URL, status=status, json=load(fixture) if fixture else None)

    # when a token is asked for
    with pytest.raises(DarajaAuthError):
        client.access_token()

    # then it was not retried (retrying cannot fix credentials)
    assert len(calls_to(rsps, OAUTH_URL)) == 1


def test_access_token_retries_when_oauth_is_unavailable(rsps, cache):
    # given OAuth fails with 503 then a timeout, then answers
    sleep = RecordingSleep()
    client = make_client(cache, sleep)
    rsps.get(OAUTH_URL, status=503, body="Service Unavailable")
    rsps.get(OAUTH_URL, body=requests.ReadTimeout("read timed out"))
    add_token(rsps)

    # when a token is asked for
    token = client.access_token()

    # then it was fetched on the third attempt after two backoff sleeps
    assert token == TOKEN
    assert len(calls_to(rsps, OAUTH_URL)) == 3
    assert len(sleep.delays) == 2


def test_access_token_gives_up_after_max_attempts(rsps, cache):
    # given OAuth keeps failing with 500
    sleep = RecordingSleep()
    client = make_client(cache, sleep, max_attempts=3)
    rsps.get(OAUTH_URL, status=500, body="<html>error</html>")

    # when a token is asked for
    with pytest.raises(DarajaUnavailable):
        client.access_token()

    # then it tried exactly max_attempts times
    assert len(calls_to(rsps, OAUTH_URL)) == 3
    assert len(sleep.delays) == 2


def test_access_token_key_depends_on_host_and_consumer_key(cache):
    # given two apps, and one app on two hosts
    a = _store(cache)
    b = TokenStore(cache, base_url=BASE_URL, consumer_key="other", lock_seconds=1)
    c = TokenStore(
        cache,
        base_url="https://api.safaricom.co.ke",
        consumer_key=CONSUMER_KEY,
        lock_seconds=1,
    )

    # when / then each has its own cache entry, which reveals no key
    assert len({a.key, b.key, c.key}) == 3
    assert CONSUMER_KEY not in a.key
