import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD, VerifiedUserFactory
from tests.services import free_port


@pytest.fixture
def redis_down(settings):
    """The cache points at a Redis that does not answer (nothing listens on the port)."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        },
    }


@pytest.mark.django_db
def test_login_and_sessions_work_while_redis_is_down(client, redis_down):
    user = VerifiedUserFactory()

    logged_in = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    # A page for signed-in people only: the session comes back from the database.
    account_page = client.get(reverse("account_email"))

    assert logged_in.status_code == 302
    assert logged_in["Location"] == "/"
    assert account_page.status_code == 200
    assert user.email in account_page.content.decode()


@pytest.mark.django_db
def test_the_cache_behaves_as_an_empty_one_while_redis_is_down(redis_down):
    assert cache.add("lock", "mine") is True
    assert cache.get("lock", "missing") == "missing"
