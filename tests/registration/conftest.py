import uuid

import pytest
from django.core.servers.basehttp import WSGIServer
from django.utils import translation


@pytest.fixture(autouse=True)
def own_cache_namespace(settings):
    """Each test counts rate limits in a cache namespace of its own: test clients share one
    address, and the processes of a parallel run share Redis and their key prefix."""
    default = settings.CACHES["default"]
    prefix = f"{default['KEY_PREFIX']}-{uuid.uuid4().hex}"
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture(autouse=True)
def _default_language():
    """Requests leave their language active in this thread: later tests must not read in it."""
    yield
    translation.deactivate()


# Django's test server listens with a backlog of 10 connections; the bursts in
# test_concurrency.py open 50 at once, as a production server (gunicorn: 2048) allows.
WSGIServer.request_queue_size = 128
