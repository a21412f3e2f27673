import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_registration_rate_limits():
    """Each test starts with the registration POST limits untouched (test clients share one address)."""
    cache.delete_pattern("allauth:rl:allauth.account:registration:*")
