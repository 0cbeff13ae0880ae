"""WAKEUP_REDIS_URL: where ``?wait=`` wake-ups go between web processes."""

import pytest

from hakiyetu.tests.test_settings_defaults import _setting


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ""),
        ({"CACHE_URL": "redis://127.0.0.1:6379/1"}, "redis://127.0.0.1:6379/1"),
        ({"CELERY_BROKER_URL": "redis://broker:6379/2"}, "redis://broker:6379/2"),
        (
            {
                "CACHE_URL": "redis://cache:6379/1",
                "WAKEUP_REDIS_URL": "redis://pubsub:6379/3",
            },
            "redis://pubsub:6379/3",
        ),
        ({"WAKEUP_REDIS_URL": "", "CELERY_BROKER_URL": "amqp://mq//"}, ""),
    ],
)
def test_wakeups_use_redis_when_the_cache_or_broker_is_redis(tmp_path, env, expected):
    # given / when
    value = _setting("WAKEUP_REDIS_URL", tmp_path, **env)
    # then
    assert value == expected
