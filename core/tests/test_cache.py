"""The Redis cache reuses one client per connection pool (core/cache.py):
Django's built a new ``redis.Redis`` for every operation."""

import os

import pytest
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from core.cache import RedisCache, ReusingRedisCacheClient

REDIS_URL = os.environ.get("CACHE_URL", "")


def _cache(url: str = "redis://127.0.0.1:6379/0") -> RedisCache:
    return RedisCache(url, {"KEY_PREFIX": "test-core-cache"})


def test_the_same_pool_gives_the_same_client():
    client = _cache()._cache
    assert isinstance(client, ReusingRedisCacheClient)
    assert client.get_client() is client.get_client(write=True)


def test_a_replaced_pool_gets_a_new_client():
    client = _cache()._cache
    first = client.get_client()
    client._pools.clear()  # as after a reconnect with a new pool
    assert client.get_client() is not first


def test_settings_use_it_for_a_redis_cache_url(settings):
    backend = settings.CACHES["default"]["BACKEND"]
    if "redis" in settings.CACHES["default"].get("LOCATION", ""):
        assert backend == "core.cache.RedisCache"
    assert backend != "django.core.cache.backends.redis.RedisCache"


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs Redis")
def test_it_stores_and_reads_like_djangos():
    ours, django = _cache(REDIS_URL), DjangoRedisCache(REDIS_URL, {"KEY_PREFIX": "t"})
    ours.set("k", {"a": 1}, 30)
    django.set("k", {"a": 1}, 30)
    assert ours.get("k") == django.get("k") == {"a": 1}
    ours.delete("k")
    assert ours.get("k") is None
