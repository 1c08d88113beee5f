"""The shared cache (Redis in production) that keeps answering while Redis is away.

Rate limits, the library version of the public pages and the "sent once" guards of
notifications live in the cache; none of them may turn a submission into an error page.
When Redis cannot be reached, this backend serves from a cache in this process's memory
for RETRY_SECONDS, then tries Redis again. It logs one warning per outage, naming no
key and no value. Meanwhile limits count per process: looser, never absent.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 10
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self.fallback = LocMemCache(
            f"fallback-{id(self)}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "OPTIONS": {"MAX_ENTRIES": 10_000},
            },
        )
        self.down_until = 0.0
        self.lock = threading.Lock()

    def call(self, name: str, *args, **kwargs):
        if time.monotonic() < self.down_until:
            return getattr(self.fallback, name)(*args, **kwargs)
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except UNREACHABLE as error:
            with self.lock:
                if not self.down_until:
                    logger.warning(
                        "Redis cannot be reached (%s); this process uses its own memory "
                        "as the cache until it answers again",
                        type(error).__name__,
                    )
                self.down_until = time.monotonic() + RETRY_SECONDS
            return getattr(self.fallback, name)(*args, **kwargs)
        if self.down_until:
            with self.lock:
                self.down_until = 0.0
            logger.warning("Redis answers again; the shared cache is back in use")
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self.call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self.call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self.call("delete", key, version)

    def get_many(self, keys, version=None):
        return self.call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self.call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self.call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self.call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self.call("delete_many", keys, version)

    def clear(self):
        return self.call("clear")
