"""The Redis cache, failing open when Redis is down."""

from django_redis.cache import RedisCache as BaseRedisCache
from django_redis.cache import omit_exception


class RedisCache(BaseRedisCache):
    """django-redis with IGNORE_EXCEPTIONS, where `add` also behaves like an empty cache.

    django-redis answers `add` with None during an outage; allauth's rate limiter reads that
    as "someone else holds the lock" and would refuse every login and sign-up with a 429.
    An empty cache accepts the key, so the rate limits simply pause until Redis is back.
    """

    @omit_exception(return_value=True)
    def add(self, *args, **kwargs):
        return self.client.add(*args, **kwargs)
