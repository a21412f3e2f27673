"""Logins, sign-ups and password resets against guessing, lockouts, enumeration and takeover."""

import random

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client
from django.urls import reverse

from outbox.models import OutgoingEmail
from registration.models import User
from tests.conference.test_cache import redis_down  # noqa: F401 (a fixture)
from tests.factories import PASSWORD, OrganiserFactory, VerifiedUserFactory

TOO_MANY = "Too many failed attempts to log in. Wait a few minutes, then try again."


class CountingHasher(MD5PasswordHasher):
    """Django's test hasher, counting the passwords it hashes: what costs the server its CPU."""

    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


@pytest.fixture
def hashes(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.hashed = 0
    return CountingHasher


def some_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def log_in(client: Client, email: str, password: str, address: str, next_url: str = ""):
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": email, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_the_admin_login_is_the_sites_login_with_its_limits(client, hashes):
    organiser = OrganiserFactory(email="organiser@example.org")
    address = some_address()
    hashes.hashed = 0

    # The admin's own form takes no password: it sends everyone to the site's login.
    admin_post = client.post("/admin/login/", {"username": organiser.email, "password": PASSWORD}, REMOTE_ADDR=address)
    assert admin_post.status_code == 302
    assert admin_post["Location"] == f"{reverse('account_login')}?next=/admin/"
    assert "_auth_user_id" not in client.session

    answers = [log_in(client, organiser.email, f"guess-{n}", address, "/admin/") for n in range(25)]
    right_one = log_in(client, organiser.email, PASSWORD, address, "/admin/")

    # Five passwords are checked; the other twenty and then the right one are refused unread.
    assert [answer.status_code for answer in answers] == [200] * 25
    assert all(TOO_MANY in answer.content.decode() for answer in answers[5:])
    assert TOO_MANY in right_one.content.decode()
    assert "_auth_user_id" not in client.session
    assert hashes.hashed == 5
    # And past the per-client limit on login attempts, the answer is a 429.
    assert [log_in(client, organiser.email, "guess", address).status_code for _ in range(5)][-1] == 429


@pytest.mark.django_db
def test_a_stranger_guessing_elsewhere_never_locks_the_owner_out(client):
    owner = VerifiedUserFactory()
    stranger, owners_device = Client(), some_address()
    guessing_from = some_address()
    for _ in range(10):
        log_in(stranger, owner.email, "guess", guessing_from)

    locked = log_in(stranger, owner.email, PASSWORD, guessing_from)
    owner_logs_in = log_in(client, owner.email, PASSWORD, owners_device)

    assert TOO_MANY in locked.content.decode()
    assert "_auth_user_id" not in stranger.session
    assert owner_logs_in.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


@pytest.mark.django_db
def test_password_guessing_is_limited_while_redis_is_down(client, redis_down):  # noqa: F811
    user = VerifiedUserFactory()
    address = some_address()
    for _ in range(5):
        assert log_in(client, user.email, "guess", address).status_code == 200

    response = log_in(client, user.email, PASSWORD, address)

    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The counts are in the database, where they outlive the outage of the cache.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rate_limit_fallback")
        assert cursor.fetchone()[0] > 0


@pytest.mark.django_db
def test_sign_up_costs_the_same_for_a_known_and_a_new_address(hashes):
    VerifiedUserFactory(email="known@example.org")
    counts = {}
    for email in ["known@example.org", "new@example.org"]:
        hashes.hashed = 0
        response = Client().post(
            reverse("account_signup"),
            {"email": email, "password1": PASSWORD, "password2": PASSWORD},
            REMOTE_ADDR=some_address(),
        )
        assert response.status_code == 302
        counts[email] = hashes.hashed

    # Hashing a password is what takes the time (hundreds of milliseconds in production).
    assert counts["known@example.org"] == counts["new@example.org"] == 1


@pytest.mark.django_db
def test_a_password_reset_goes_only_to_a_verified_address(client):
    user = VerifiedUserFactory(email="marcel.la@example.cat")
    EmailAddress.objects.create(user=user, email="marcel.la@exmaple.cat", verified=False, primary=False)

    to_typo = client.post(
        reverse("account_reset_password"), {"email": "marcel.la@exmaple.cat"}, REMOTE_ADDR=some_address()
    )
    to_owner = client.post(
        reverse("account_reset_password"), {"email": "marcel.la@example.cat"}, REMOTE_ADDR=some_address()
    )

    # Both answers look alike; only the verified address gets a link.
    assert to_typo.status_code == to_owner.status_code == 302
    assert OutgoingEmail.objects.get(to="marcel.la@exmaple.cat").kind == "account_unknown_account"
    assert OutgoingEmail.objects.get(to="marcel.la@example.cat").kind == "account_password_reset_key"


@pytest.mark.django_db
def test_an_address_too_long_for_mail_is_refused_not_cut(client):
    email = "e" * 243 + "@example.org"  # 255 characters
    response = client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR=some_address(),
    )

    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
    assert not User.objects.exists()
    assert not OutgoingEmail.objects.exists()


@pytest.mark.django_db
def test_adding_another_accounts_verified_address_mails_its_owner_nothing(client):
    VerifiedUserFactory(email="ulla.engelmann@example.eu")
    requester = VerifiedUserFactory(email="someone@example.org")
    client.force_login(requester)

    taken = client.post(reverse("account_email"), {"action_add": "", "email": "ulla.engelmann@example.eu"})
    free = client.post(reverse("account_email"), {"action_add": "", "email": "someone.else@example.org"})

    # Both answers look alike; only the address nobody has verified is asked to confirm.
    assert taken.status_code == free.status_code == 302
    assert not OutgoingEmail.objects.filter(to="ulla.engelmann@example.eu").exists()
    assert OutgoingEmail.objects.get(to="someone.else@example.org").kind == "account_email_confirmation"
