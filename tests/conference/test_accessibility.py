"""The accessibility statement and the form to report a problem."""

import lxml.html
import pytest
from django.conf import settings
from django.test import Client, override_settings

from outbox.models import OutgoingEmail
from tests.factories import ConferenceFactory, UserFactory
from tests.registration.test_views import text

pytestmark = pytest.mark.django_db

ORGANISERS = "accessibility@growyourregion.example.eu"


def report(**overrides) -> dict:
    return {
        "problem": "The pre-event checkboxes are not announced by NVDA with Firefox.",
        "page": "/growyourregion/register/",
        "name": "Åsa Öberg",
        "email": "asa.oberg@example.se",
        **overrides,
    }


@override_settings(ACCESSIBILITY_EMAIL=ORGANISERS)
def test_statement_has_the_sections_of_the_eu_model(client):
    response = client.get("/accessibility/")

    page = lxml.html.fromstring(response.content)
    assert [heading.text_content() for heading in page.iter("h1", "h2")] == [
        "Accessibility statement",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
        "Feedback and contact information",
        "Enforcement procedure",
    ]
    words = text(response)
    assert "Directive (EU) 2016/2102" in words
    assert "partially compliant with the harmonised European standard EN 301 549" in words
    assert "This statement was prepared on 22 November 2026." in words
    assert "European Ombudsman" in words
    main = page.get_element_by_id("main")
    assert main.xpath(f".//a[@href='mailto:{ORGANISERS}']")
    assert main.xpath(".//a[@href='/accessibility/report/']")


def test_statement_dates_itself_as_readers_of_the_language_do(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    assert "22 de noviembre de 2026" in text(client.get("/accessibility/"))


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/no-such-page/", "/accessibility/"])
def test_every_page_links_to_the_statement_and_the_report_form_in_its_footer(client, path):
    ConferenceFactory(contact_email="growyourregion@example.eu")

    footer = lxml.html.fromstring(client.get(path).content).find(".//footer")

    links = {link.text_content(): link.get("href") for link in footer.iter("a")}
    assert links["Accessibility statement"] == "/accessibility/"
    assert links["Report an accessibility problem"] == f"/accessibility/report/?page={path}"


@override_settings(ACCESSIBILITY_EMAIL=ORGANISERS)
def test_report_emails_the_organisers_who_reply_to_the_reporter(client):
    response = client.post(
        "/accessibility/report/", report(), HTTP_ACCEPT_LANGUAGE="es", HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0"
    )

    assert response.status_code == 302
    assert response["Location"] == "/accessibility/"
    email = OutgoingEmail.objects.get()
    assert (email.to, email.reply_to, email.kind, email.language, email.conference) == (
        ORGANISERS,
        "asa.oberg@example.se",
        "accessibility_report",
        "en",
        None,
    )
    assert email.subject == "Accessibility problem reported"
    assert "The pre-event checkboxes are not announced by NVDA with Firefox." in email.body_text
    assert f"Page: {settings.SITE_URL}/growyourregion/register/" in email.body_text
    assert "From: Åsa Öberg, asa.oberg@example.se" in email.body_text
    assert "They read the site in: Spanish" in email.body_text
    assert "Browser: Mozilla/5.0 Firefox/140.0" in email.body_text
    # The thanks, in Spanish, name the address the reply goes to.
    thanks = lxml.html.fromstring(client.get("/accessibility/", HTTP_ACCEPT_LANGUAGE="es").content)
    assert "asa.oberg@example.se" in thanks.find_class("message-success")[0].text_content()


def test_report_with_errors_says_what_to_fix_and_sends_nothing(client):
    response = client.post("/accessibility/report/", report(problem="", email="asa.oberg", name="Åsa\u202eÖberg"))

    assert response.status_code == 400
    words = text(response)
    assert "There is a problem" in words
    assert "Describe the problem you met." in words
    assert "Enter an email address like name@example.org." in words
    assert "Leave out invisible characters such as control characters, zero-width spaces" in words
    assert not OutgoingEmail.objects.exists()


def test_report_form_is_filled_in_with_the_page_and_a_logged_in_users_address(client):
    client.force_login(UserFactory(email="soren@example.dk"))

    form = lxml.html.fromstring(client.get("/accessibility/report/?page=/growyourregion/agenda/").content)

    assert form.get_element_by_id("id_page").value == "/growyourregion/agenda/"
    assert form.get_element_by_id("id_email").value == "soren@example.dk"
    assert form.get_element_by_id("id_name").value is None


@override_settings(ACCOUNT_RATE_LIMITS={"accessibility_report": "2/m/ip"})
def test_reports_are_rate_limited_per_address():
    statuses = [Client(REMOTE_ADDR="192.0.2.7").post("/accessibility/report/", report()).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert OutgoingEmail.objects.count() == 2
    assert Client(REMOTE_ADDR="192.0.2.8").post("/accessibility/report/", report()).status_code == 302


def test_report_rate_limits_are_per_address():
    assert settings.ACCOUNT_RATE_LIMITS["accessibility_report"] == "5/10m/ip,20/d/ip"


@override_settings(ACCESSIBILITY_EMAIL=ORGANISERS)
def test_report_sends_the_reporters_words_as_plain_text_never_as_links(client):
    client.post("/accessibility/report/", report(problem="Log in again at https://evil.example/login to fix it."))

    email = OutgoingEmail.objects.get()
    assert "https://evil.example/login" in email.body_text
    assert email.body_html == ""
