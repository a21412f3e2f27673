"""Security headers and cookies as production serves them, and the abuse cases around
accounts: open redirects, account enumeration, rate limits."""

import random
import re
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from outbox.models import OutgoingEmail
from registration.models import User
from tests.conftest import database_url
from tests.emails import written
from tests.factories import PASSWORD, VerifiedUserFactory
from tests.production import HTTPS, HttpClient, ProductionServer

EVIL_NEXT_URLS = ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"]


@pytest.fixture(scope="module")
def production_server(django_db_setup) -> ProductionServer:
    """gunicorn on the production settings, against this run's test database."""
    server = ProductionServer(database_url=database_url(), redis_url=settings.REDIS_URL)
    server.start()
    yield server
    server.stop()


def parse_policy(header: str) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value[0] if value else "" for name, *value in directives}


def stylesheet_path(production_server: ProductionServer) -> str:
    home = HttpClient(production_server.url, headers=HTTPS).get("/")
    return re.search(r'<link rel="stylesheet" href="([^"]+)"', home.text).group(1)


@pytest.mark.parametrize(
    ("path", "expected_content"),
    [
        ("/", "Conferences"),
        ("/accounts/login/", 'name="password"'),
        ("/healthz", '"database": "ok"'),
        (stylesheet_path, ".skip-link"),
    ],
    ids=["page", "login", "healthz", "static-file"],
)
def test_security_headers_are_on_every_kind_of_response(production_server, path, expected_content):
    if callable(path):
        path = path(production_server)

    response = HttpClient(production_server.url, headers=HTTPS).get(path)

    assert response.status == 200, response.text
    assert expected_content in response.text
    policy = parse_policy(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_plain_http_is_redirected_to_https_except_the_health_check(production_server):
    client = HttpClient(production_server.url)

    page = client.get("/")
    health = client.get("/healthz")

    assert page.status == 301
    assert page.headers["Location"] == f"https://127.0.0.1:{production_server.port}/"
    # A load balancer probes over plain http; HSTS is only ever sent over https.
    assert health.status == 200
    assert '"database": "ok"' in health.text
    assert "Strict-Transport-Security" not in health.headers


def test_cookies_are_secure_httponly_and_same_site_in_production(production_server, transactional_db):
    production_server.create_user("tomasz@example.pl", PASSWORD)
    client = HttpClient(production_server.url, headers=HTTPS)

    csrf_cookie = client.get("/accounts/login/").cookie("csrftoken")
    logged_in = client.log_in("tomasz@example.pl", PASSWORD)

    assert logged_in.status == 302, logged_in.text
    session_cookie = logged_in.cookie("sessionid")
    for cookie in (csrf_cookie, session_cookie):
        attributes = {attribute.strip().lower() for attribute in cookie.split(";")}
        assert {"secure", "httponly", "samesite=lax"} <= attributes, cookie
    assert "Log out" in client.get("/").text


def some_address() -> str:
    """A client address of its own, so that rate limits counted in the shared cache start at zero."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def url_with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", EVIL_NEXT_URLS)
def test_login_never_redirects_to_another_site(client, next_url):
    user = VerifiedUserFactory()

    response = client.post(
        url_with_next("account_login", next_url),
        {"login": user.email, "password": PASSWORD, "next": next_url},
        REMOTE_ADDR=some_address(),
    )

    assert response.status_code == 302
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", EVIL_NEXT_URLS)
def test_sign_up_never_redirects_to_another_site(client, next_url):
    # Confirmation emails to one address are rate limited: each case signs up a new one.
    address, email = some_address(), f"jana.{uuid.uuid4().hex[:8]}@example.cz"
    signed_up = client.post(
        url_with_next("account_signup", next_url),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "next": next_url},
        REMOTE_ADDR=address,
    )
    confirmation = written(OutgoingEmail.objects.get(to=email, kind="account_email_confirmation_signup"))
    confirm_path = re.search(r"https?://[^/\s]+(/\S+)", confirmation.body_text).group(1)

    confirmed = client.post(confirm_path, REMOTE_ADDR=address)

    assert signed_up.status_code == 302
    assert signed_up["Location"] == reverse("account_email_verification_sent")
    assert confirmed.status_code == 302
    assert confirmed["Location"] == settings.LOGIN_REDIRECT_URL
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", EVIL_NEXT_URLS)
def test_logout_never_redirects_to_another_site(client, next_url):
    client.force_login(VerifiedUserFactory())

    response = client.post(url_with_next("account_logout", next_url), {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", EVIL_NEXT_URLS)
def test_language_switch_never_redirects_to_another_site(client, next_url):
    response = client.post(reverse("set_language"), {"language": "fr", "next": next_url}, HTTP_REFERER=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def answer_and_page(url: str, data: dict) -> tuple[int, str, str]:
    """(status, redirect target, the page it leads to) for a form submitted by a new visitor,
    with the address they typed, which the page may repeat, taken out."""
    client = Client()
    response = client.post(url, data, REMOTE_ADDR=some_address())
    page = client.get(response["Location"]) if response.status_code == 302 else response
    html = without_csrf_tokens(page.content.decode()).replace(data.get("email") or data["login"], "<address>")
    return response.status_code, response.get("Location", ""), html


@pytest.mark.django_db
def test_sign_up_does_not_tell_whether_an_address_has_an_account():
    VerifiedUserFactory(email="known@example.org")

    known = answer_and_page(
        reverse("account_signup"), {"email": "known@example.org", "password1": PASSWORD, "password2": PASSWORD}
    )
    unknown = answer_and_page(
        reverse("account_signup"), {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert known == unknown
    assert known[1] == reverse("account_email_verification_sent")
    # The owner of the known address learns about the attempt by email, nobody else does.
    assert User.objects.filter(email="known@example.org").count() == 1
    assert OutgoingEmail.objects.get(to="known@example.org").kind == "account_account_already_exists"
    assert OutgoingEmail.objects.get(to="new@example.org").kind == "account_email_confirmation_signup"


@pytest.mark.django_db
def test_password_reset_does_not_tell_whether_an_address_has_an_account():
    VerifiedUserFactory(email="known@example.org")

    known = answer_and_page(reverse("account_reset_password"), {"email": "known@example.org"})
    unknown = answer_and_page(reverse("account_reset_password"), {"email": "nobody@example.org"})

    assert known == unknown
    assert known[1] == reverse("account_reset_password_done")
    assert OutgoingEmail.objects.get(to="known@example.org").kind == "account_password_reset_key"
    assert OutgoingEmail.objects.get(to="nobody@example.org").kind == "account_unknown_account"


@pytest.mark.django_db
def test_login_gives_the_same_error_for_a_wrong_password_and_an_unknown_address():
    VerifiedUserFactory(email="known@example.org")

    known = answer_and_page(reverse("account_login"), {"login": "known@example.org", "password": "wrong"})
    unknown = answer_and_page(reverse("account_login"), {"login": "nobody@example.org", "password": "wrong"})

    assert known == unknown
    assert known[0] == 200
    assert "That email address and password do not match. Check both and try again." in known[2]


def limit(action: str, per: str) -> int:
    """How many attempts our settings allow for `action`, counted per ip or per key."""
    for rate in settings.ACCOUNT_RATE_LIMITS[action].split(","):
        amount, _period, rate_per = rate.split("/")
        if rate_per == per:
            return int(amount)
    raise AssertionError(f"No per-{per} limit for {action}")


def assert_friendly_429(response) -> None:
    content = response.content.decode()
    assert response.status_code == 429
    assert "<h1>Too many attempts</h1>" in content
    assert "Please wait a few minutes and try again." in content
    assert 'class="skip-link"' in content  # in the site's layout


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["login", "signup"])
def test_login_and_sign_up_are_rate_limited_per_address(client, action):
    url, address = reverse(f"account_{action}"), some_address()
    for _ in range(limit(action, "ip")):
        assert client.post(url, {}, REMOTE_ADDR=address).status_code == 200

    limited = client.post(url, {}, REMOTE_ADDR=address)
    elsewhere = client.post(url, {}, REMOTE_ADDR=some_address())

    assert_friendly_429(limited)
    assert elsewhere.status_code == 200
    assert "Fill in this field." in elsewhere.content.decode()


@pytest.mark.django_db
def test_password_guessing_locks_the_guessing_client_out_even_for_the_right_password(client):
    user, address = VerifiedUserFactory(), some_address()
    for _ in range(limit("login_failed", "key")):
        client.post(reverse("account_login"), {"login": user.email, "password": "guess"}, REMOTE_ADDR=address)

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}, REMOTE_ADDR=address)

    assert response.status_code == 200
    assert "Too many failed attempts to log in. Wait a few minutes, then try again." in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_is_rate_limited_per_email_address(client):
    url = reverse("account_reset_password")
    for _ in range(limit("reset_password", "key")):
        assert client.post(url, {"email": "elzbieta@example.pl"}, REMOTE_ADDR=some_address()).status_code == 302

    limited = client.post(url, {"email": "elzbieta@example.pl"}, REMOTE_ADDR=some_address())

    assert_friendly_429(limited)
    assert OutgoingEmail.objects.filter(to="elzbieta@example.pl").count() == limit("reset_password", "key")
