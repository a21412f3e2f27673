"""The Redis cache, failing open when Redis is down, except for the rate limits."""

import logging

from django.core.cache import caches
from django_redis.cache import RedisCache as BaseRedisCache
from django_redis.cache import omit_exception
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)

# The keys of allauth's rate limiter (allauth.core.internal.ratelimit), ours included.
RATE_LIMIT_KEY_PREFIX = "allauth:rl:"
# The cache (settings.CACHES) that holds the rate limits while Redis is unreachable.
RATE_LIMIT_FALLBACK = "rate_limits"


class RedisCache(BaseRedisCache):
    """django-redis with IGNORE_EXCEPTIONS, where `add` also behaves like an empty cache,
    and the rate limits count on in the database while Redis is down.

    django-redis answers `add` with None during an outage; allauth's rate limiter reads that
    as "someone else holds the lock" and would refuse every login and sign-up with a 429.
    An empty cache accepts the key. The rate-limit keys, though, go to the database cache
    instead: without them an outage would switch off every limit, password guessing included.
    """

    def add(self, key, *args, **kwargs):
        if _is_rate_limit(key):
            return self._or_database("add", key, *args, **kwargs)
        return self._add_or_accept(key, *args, **kwargs)

    def get(self, key, *args, **kwargs):
        if _is_rate_limit(key):
            return self._or_database("get", key, *args, **kwargs)
        return super().get(key, *args, **kwargs)

    def set(self, key, *args, **kwargs):
        if _is_rate_limit(key):
            return self._or_database("set", key, *args, **kwargs)
        return super().set(key, *args, **kwargs)

    def delete(self, key, *args, **kwargs):
        if _is_rate_limit(key):
            return self._or_database("delete", key, *args, **kwargs)
        return super().delete(key, *args, **kwargs)

    @omit_exception(return_value=True)
    def _add_or_accept(self, *args, **kwargs):
        return self.client.add(*args, **kwargs)

    def _or_database(self, method: str, key, *args, **kwargs):
        try:
            return getattr(self.client, method)(key, *args, **kwargs)
        except ConnectionInterrupted:
            logger.warning("Redis unreachable: rate limits counted in the database")
            kwargs.pop("client", None)
            return getattr(caches[RATE_LIMIT_FALLBACK], method)(key, *args, **kwargs)


def _is_rate_limit(key) -> bool:
    return str(key).startswith(RATE_LIMIT_KEY_PREFIX)
