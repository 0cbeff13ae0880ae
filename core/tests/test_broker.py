"""core/broker.py: one Redis client per channel, every message delivered."""

import socket
import uuid

import pytest
from kombu import Connection

from core import broker

REDIS_URL = "redis://127.0.0.1:6379/14"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _redis_up(), reason="no Redis on 6379")


@pytest.fixture
def channel():
    with Connection(REDIS_URL, transport=broker.Transport) as connection:
        yield connection.default_channel


def test_channel_publishes_every_message_through_one_client(channel):
    # given
    queue = f"test-broker-{uuid.uuid4()}"
    clients = []
    # when
    for number in range(3):
        channel._put(queue, {"body": number})
        with channel.conn_or_acquire() as client:
            clients.append(client)
    # then
    assert len({id(client) for client in clients}) == 1
    assert channel._size(queue) == 3
    clients[0].delete(queue)


def test_channel_takes_a_new_client_when_its_pool_is_replaced(channel):
    # given
    with channel.conn_or_acquire() as first:
        pass
    # when
    channel._pool = None  # as after a reconnect
    with channel.conn_or_acquire() as second:
        pass
    # then
    assert second is not first
    assert second.connection_pool is channel.pool


@pytest.fixture
def virtual_broker(settings):
    settings.CELERY_BROKER_URL = REDIS_URL
    broker._virtual_broker.cache_clear()
    yield
    broker._virtual_broker.cache_clear()


def test_a_task_published_without_declaring_its_queue_is_delivered(
    virtual_broker, monkeypatch
):
    # given: an app whose queue no worker (and no publish) ever declared
    import json

    import redis
    from celery import Celery

    queue = f"test-undeclared-{uuid.uuid4()}"
    # Celery prefers CELERY_BROKER_URL (set in CI) to the broker it is given.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = Celery("t", broker=REDIS_URL, set_as_current=False)
    app.conf.broker_transport = "core.broker:Transport"
    app.conf.task_default_queue = queue

    @app.task(name="t.add_one")
    def add_one(number):  # pragma: no cover - never run here
        return number + 1

    # when
    options = broker.publish_options((41,))
    add_one.apply_async((41,), **options)
    # then: the message is in the queue's list, with the ids as given
    assert options["declare"] == []
    client = redis.Redis.from_url(REDIS_URL)
    try:
        (raw,) = client.lrange(queue, 0, -1)
        message = json.loads(raw)
        assert message["headers"]["task"] == "t.add_one"
        assert message["headers"]["argsrepr"] == "(41,)"
        assert not client.exists(f"_kombu.binding.{queue}")  # never declared
    finally:
        client.delete(queue)
        app.close()


def test_rabbitmq_keeps_declaring(settings):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
    broker._virtual_broker.cache_clear()
    try:
        assert "declare" not in broker.publish_options((1,))
    finally:
        broker._virtual_broker.cache_clear()
