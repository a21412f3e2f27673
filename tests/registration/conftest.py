import pytest
from django.core.cache import cache
from django.core.servers.basehttp import WSGIServer


@pytest.fixture(autouse=True)
def fresh_registration_rate_limits():
    """Each test starts with the registration POST limits untouched (test clients share one address)."""
    cache.delete_pattern("allauth:rl:allauth.account:registration:*")


# Django's test server listens with a backlog of 10 connections; the bursts in
# test_concurrency.py open 50 at once, as a production server (gunicorn: 2048) allows.
WSGIServer.request_queue_size = 128
