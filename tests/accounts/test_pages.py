"""The login, sign-up, verification and password pages and their emails: in the site's
voice and languages, naming the conference the visitor came from, leading back to it."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from outbox.models import OutgoingEmail
from tests.agenda.conftest import text
from tests.emails import written
from tests.factories import ConferenceFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/growyourregion/register/"
PASSWORD = "Klastry-2017-Valencia"


@pytest.fixture
def conference():
    return ConferenceFactory(slug="growyourregion", name="GROW your REGIOn")


def header(response) -> str:
    return re.search(r"<header.*?</header>", response.content.decode(), re.S).group(0)


def links(markup: str) -> dict[str, str]:
    return {
        re.sub(r"\s+", " ", name).strip(): href
        for href, name in re.findall(r'<a[^>]* href="([^"]*)"[^>]*>(.*?)</a>', markup, re.S)
    }


def text_of_main(response) -> str:
    return re.search(r"<main.*?</main>", response.content.decode(), re.S).group(0)


def test_the_login_page_links_to_sign_up_with_the_same_return_address(client, conference):
    page = client.get(f"/accounts/login/?next={REGISTER}")

    expected = "/accounts/signup/?next=/growyourregion/register/"
    assert links(header(page))["Sign up"].replace("%2F", "/") == expected
    assert links(header(page))["Log in"].replace("%2F", "/") == "/accounts/login/?next=/growyourregion/register/"
    assert links(text_of_main(page))["Sign up"].replace("%2F", "/") == expected


def test_the_sign_up_page_links_to_login_with_the_same_return_address(client, conference):
    page = client.get(f"/accounts/signup/?next={REGISTER}")

    assert links(header(page))["Log in"].replace("%2F", "/") == "/accounts/login/?next=/growyourregion/register/"
    assert links(text_of_main(page))["Log in"].replace("%2F", "/") == "/accounts/login/?next=/growyourregion/register/"


def test_a_return_address_elsewhere_is_not_passed_on(client, conference):
    page = client.get("/accounts/login/?next=https://evil.example.org/")

    assert links(header(page))["Sign up"] == "/accounts/signup/"


def test_the_account_pages_name_the_conference_one_came_from(client, conference):
    for path in ("/accounts/login/", "/accounts/signup/"):
        page = client.get(f"{path}?next={REGISTER}")

        assert '<a class="brand" href="/growyourregion/">GROW your REGIOn</a>' in header(page)
        assert ">Programme</a>" in header(page)
        assert "Conferences" not in header(page)
        assert "GROW your REGIOn" in text(page)


def test_the_account_pages_speak_in_sentence_case(client, conference):
    login, signup = client.get(f"/accounts/login/?next={REGISTER}"), client.get("/accounts/signup/")

    assert "<h1>Log in</h1>" in login.content.decode()
    assert "Log in to go on to GROW your REGIOn." in text(login)
    assert ">Email address" in login.content.decode()
    assert "Keep me logged in on this device" in text(login)
    assert "<h1>Sign up</h1>" in signup.content.decode()
    assert "Password again" in text(signup)
    for page in (login, signup):
        assert not re.search(r"Sign In|Sign Up|Remember Me|Password \(again\)", page.content.decode())


@pytest.mark.parametrize(
    ("language", "heading", "lead"),
    [
        ("es", "Acceder", "Acceda para continuar a GROW your REGIOn."),
        ("fr", "Se connecter", "Connectez-vous pour continuer vers GROW your REGIOn."),
        ("de", "Einloggen", "Loggen Sie sich ein, um zu GROW your REGIOn weiterzugehen."),
    ],
)
def test_the_login_page_speaks_every_language(client, conference, language, heading, lead):
    page = client.get(f"/accounts/login/?next={REGISTER}", HTTP_ACCEPT_LANGUAGE=language)

    assert f"<h1>{heading}</h1>" in page.content.decode()
    assert lead in text(page)


def test_sign_up_from_a_conference_sends_a_verification_naming_it_that_returns_there(client, conference):
    client.post(
        "/accounts/signup/",
        {"email": "elzbieta@example.org", "password1": PASSWORD, "password2": PASSWORD, "next": REGISTER},
    )

    sent = client.get("/accounts/confirm-email/")
    assert "<h1>Check your email</h1>" in sent.content.decode()
    assert "go on to GROW your REGIOn" in text(sent)
    assert '<a class="brand" href="/growyourregion/">GROW your REGIOn</a>' in header(sent)
    email = written(OutgoingEmail.objects.get(to="elzbieta@example.org"))
    assert email.subject == "Confirm your email address for GROW your REGIOn"
    assert "To finish signing up and go on to register for GROW your REGIOn" in email.body_text
    for wrong in ("Hello from", "has given your email address", "Thank you for using", "example.com"):
        assert wrong not in email.body_text
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", email.body_text).group(0)
    assert link.endswith("?next=/growyourregion/register/")

    # Opened on another device: the page names the conference and, confirmed, leads to the form.
    other = Client()
    path = link.split("://", 1)[1].split("/", 1)[1]
    confirm = other.get(f"/{path}")
    assert "Confirm that elzbieta@example.org is your address, and go on to GROW your REGIOn." in text(confirm)
    assert "is an email address for user" not in confirm.content.decode()
    done = other.post(f"/{path.split('?')[0]}", {"next": REGISTER})
    assert done.url == REGISTER
    assert EmailAddress.objects.get(email="elzbieta@example.org").verified


def test_a_password_reset_email_is_in_the_sites_voice(client, conference):
    user = UserFactory(email="ela@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    client.post("/accounts/password/reset/", {"email": "ela@example.pl"})

    email = written(OutgoingEmail.objects.get(to="ela@example.pl"))
    assert email.subject == "Choose a new password"
    assert "To choose a new password, open this link:" in email.body_text
    assert "Hello from" not in email.body_text


def test_errors_read_alike_on_every_form(client, conference):
    signup = client.post("/accounts/signup/", {"email": "", "password1": "", "password2": ""})
    report = client.post("/accessibility/report/", {"problem": "x" * 5001})

    assert "Fill in this field." in text(signup)
    assert "This field is required." not in signup.content.decode()
    assert "Shorten this to at most 5000 characters (it has 5001)." in report.content.decode()
    assert "Ensure this value" not in report.content.decode()
