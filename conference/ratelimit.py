"""Rate limits on the site's own forms, with allauth's rates and keys (ACCOUNT_RATE_LIMITS).

A limit is a sliding window: the POSTs of the last `duration` seconds, kept in Redis as a
sorted set by time. One script checks every limit a POST is subject to and counts the POST,
atomically and in one round trip, so that parallel submissions cannot all slip through
(allauth's own limiter spends four round trips per limit, a lock among them). Where there
is no Redis to run it (no REDIS_URL, or an outage) allauth's limiter counts instead, in the
cache that stands in: the database while Redis is down (conference.cache).
"""

import secrets
import time
from collections.abc import Callable
from functools import cached_property, wraps
from http import HTTPStatus

from allauth.core.internal import ratelimit
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.exceptions import RedisError

from conference.cache import RedisCache

# allauth's settings (ACCOUNT_RATE_LIMITS) hold our limits next to its own.
APP = "allauth.account"

# KEYS: the limits that count the POST, then those only checked. ARGV: the time, the POST's
# id, how many KEYS count it, then each limit's amount and duration in seconds. Answers 1
# when the POST is within every limit, and counts it then; else 0, counting nothing.
_TAKE = """
local now, hit, counting = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[3 + 2 * i]))
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + 2 * i]) then return 0 end
end
for i = 1, counting do
  redis.call('ZADD', KEYS[i], now, hit)
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[3 + 2 * i])))
end
return 1
"""


def limit_posts(action: str, *, key: Callable[[HttpRequest], str] | None = None) -> Callable[[Callable], Callable]:
    """Refuse POSTs beyond the limits of the allauth rate-limit `action` with a 429 page.

    A POST answered 400 (a form sent back with errors, nothing done) counts against
    `<action>_failed` instead, a budget of its own: someone putting a form right may try as
    often as they need without losing the submissions `action` allows, while a flood of
    either kind is still refused. Past the failed budget every POST is refused, the right
    one too, as allauth does with failed logins.

    `key(request)` names who a `/key` rate counts: someone without an account (a guest of
    the voting) has neither a user nor an address of their own."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            post = _Post(request, action, key(request) if key else None)
            # Counted before the view runs, so that parallel submissions cannot all slip through.
            if not post.take():
                return _refuse(request)
            response = view(request, *args, **kwargs)
            if response.status_code == HTTPStatus.BAD_REQUEST:
                post.count_as_failed()
            return response

        return wrapper

    return decorator


class _Post:
    """One POST's place in the limits of its action and of the action's failed POSTs."""

    def __init__(self, request: HttpRequest, action: str, who: str | None) -> None:
        self.request = request
        self.action = action
        self.failed = f"{action}_failed"
        self.who = who
        self.id = secrets.token_hex(8)
        # allauth's record of the POST where allauth's limiter counted it.
        self.usage = None

    def take(self) -> bool:
        """Whether the POST is within the failed budget and the action's limits; counted if so."""
        if self._redis is not None:
            try:
                return self._run(counting=self._limits(self.action), checked=self._limits(self.failed))
            except RedisError:
                pass
        if not self._allauth(self.failed, dry_run=True):
            return False
        self.usage = self._allauth(self.action)
        return bool(self.usage)

    def count_as_failed(self) -> None:
        """Move the POST from the action's count to the failed ones' (while that budget lasts)."""
        if self.usage is None and self._redis is not None:
            try:
                for key, _rate in self._limits(self.action):
                    self._redis.zrem(key, self.id)
                self._run(counting=self._limits(self.failed), checked=[])
                return
            except RedisError:
                pass
        if self.usage:
            self.usage.rollback()
        self._allauth(self.failed)

    @cached_property
    def _redis(self):
        """The Redis client of the cache, if the cache is Redis."""
        cache = caches[DEFAULT_CACHE_ALIAS]
        return cache.client.get_client(write=True) if isinstance(cache, RedisCache) else None

    def _limits(self, action: str) -> list[tuple[str, ratelimit.Rate]]:
        """Each rate of `action` with the Redis key it counts in (allauth's key, prefixed as the cache does)."""
        cache = caches[DEFAULT_CACHE_ALIAS]
        return [
            (
                cache.make_key(ratelimit.get_cache_key(self.request, app=APP, action=action, rate=rate, key=self.who)),
                rate,
            )
            for rate in ratelimit.get_rates(app=APP, action=action)
        ]

    def _run(self, *, counting: list, checked: list) -> bool:
        """The script over these limits: whether the POST is within them all (then counted in `counting`)."""
        limits = counting + checked
        if not limits:
            return True
        arguments = [time.time(), self.id, len(counting)]
        for _key, rate in limits:
            arguments += [rate.amount, rate.duration]
        return bool(self._redis.eval(_TAKE, len(limits), *(key for key, _rate in limits), *arguments))

    def _allauth(self, action: str, *, dry_run: bool = False):
        return ratelimit.consume(self.request, app=APP, action=action, key=self.who, dry_run=dry_run)


def _refuse(request: HttpRequest) -> HttpResponse:
    return render(request, "conference/rate_limited.html", status=HTTPStatus.TOO_MANY_REQUESTS)
