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
