import threading

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from conference.ratelimit import limit_posts

pytestmark = pytest.mark.django_db

LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "practice": "5/m/ip", "practice_failed": "3/m/ip"}


@limit_posts("practice")
def practice(request):
    return HttpResponse(status=400 if request.POST.get("wrong") else 200)


def post(address: str, **data) -> int:
    request = RequestFactory().post("/practice/", data, REMOTE_ADDR=address)
    request.user = AnonymousUser()
    return practice(request).status_code


@override_settings(ACCOUNT_RATE_LIMITS=LIMITS)
def test_posts_sent_at_the_same_instant_take_exactly_the_posts_allowed():
    address = "198.51.100.21"
    statuses = []
    start = threading.Barrier(20)

    def send():
        start.wait()
        statuses.append(post(address))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 5 + [429] * 15
    # Counted in Redis, by allauth's keys, and only there.
    assert len(cache.keys("allauth:rl:allauth.account:practice:*")) == 1


@override_settings(ACCOUNT_RATE_LIMITS=LIMITS)
def test_a_post_sent_back_with_errors_counts_as_failed_instead():
    address = "198.51.100.22"

    wrong = [post(address, wrong="yes") for _ in range(2)]
    right = [post(address) for _ in range(5)]

    # The corrections left all five submissions (a third would have used the failed budget up).
    assert wrong == [400] * 2
    assert right == [200] * 5
    assert post(address) == 429
    assert post("198.51.100.23") == 200


@override_settings(ACCOUNT_RATE_LIMITS=LIMITS)
def test_past_the_failed_budget_even_the_right_post_is_refused():
    address = "198.51.100.24"

    statuses = [post(address, wrong="yes") for _ in range(4)]

    assert statuses == [400] * 3 + [429]
    assert post(address) == 429
