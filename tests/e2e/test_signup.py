import re

from django.conf import settings
from playwright.sync_api import expect

from outbox.models import OutgoingEmail
from registration.models import User
from tests.conftest import first_link
from tests.emails import written
from tests.factories import ConferenceFactory, PreEventFactory


def test_new_user_signs_up_verifies_by_email_and_is_logged_in(page, celery_worker, smtp_sink):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("elzbieta@example.eu")
    page.get_by_label("Password:", exact=True).fill("Klastry-2017-Valencia")
    page.get_by_label("Password again:").fill("Klastry-2017-Valencia")
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    message = smtp_sink.to("elzbieta@example.eu")
    assert message["Auto-Submitted"] == "auto-generated"
    page.goto(first_link(message))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("link", name="Log out")).to_be_visible()
    user = User.objects.get(email="elzbieta@example.eu")
    assert user.emailaddress_set.get().verified
    assert OutgoingEmail.objects.get(to="elzbieta@example.eu").status == OutgoingEmail.Status.SENT


def test_from_a_conference_through_login_and_sign_up_back_to_its_form_and_registered_everywhere(page):
    conference = ConferenceFactory(slug="growyourregion", name="GROW your REGIOn")
    PreEventFactory(conference=conference, title="Smart specialisation lab", capacity=30)
    banner = page.get_by_role("banner")

    page.goto("/growyourregion/")
    page.get_by_role("main").get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("Log in to go on to GROW your REGIOn.")).to_be_visible()
    expect(banner.get_by_role("link", name="GROW your REGIOn")).to_be_visible()

    # The header's "Sign up" passes on where she was going, not the login page.
    banner.get_by_role("link", name="Sign up").click()
    assert page.url.endswith("/accounts/signup/?next=/growyourregion/register/")
    expect(page.get_by_text("An account lets you register for GROW your REGIOn")).to_be_visible()
    page.get_by_label("Email").fill("elzbieta@example.org")
    page.get_by_label("Password:", exact=True).fill("Klastry-2017-Valencia")
    page.get_by_label("Password again:").fill("Klastry-2017-Valencia")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_text("confirm your address and go on to GROW your REGIOn")).to_be_visible()
    expect(banner.get_by_role("link", name="GROW your REGIOn")).to_be_visible()

    email = written(OutgoingEmail.objects.get(to="elzbieta@example.org"))
    assert email.subject == "Confirm your email address for GROW your REGIOn"
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", email.body_text).group(0)
    page.goto(link.removeprefix(settings.SITE_URL))
    expect(
        page.get_by_text("Confirm that elzbieta@example.org is your address, and go on to GROW your REGIOn.")
    ).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    # Back on the form she came for.
    expect(page.get_by_role("heading", name="Register for GROW your REGIOn")).to_be_visible()
    page.get_by_label("Given name").fill("Elżbieta")
    page.get_by_label("Family name").fill("Bieńkowska")
    page.get_by_label("Organisation:", exact=True).fill("Regional Development Agency of Łódź")
    page.get_by_label("Organisation type").select_option(label="Public authority")
    page.get_by_label("Country").select_option(label="Poland")
    page.get_by_label("Smart specialisation lab").check()
    page.get_by_label("I have read the privacy statement above and agree to it.").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Your registration", exact=True)).to_be_visible()

    # Every page of the conference now says so and leads back to her registration.
    banner.get_by_role("link", name="Programme", exact=True).click()
    expect(banner).to_contain_text("You are registered · number 1 · 1 pre-event")
    banner.get_by_role("link", name="GROW your REGIOn").click()
    expect(page.get_by_role("main").get_by_role("link", name="Register")).to_have_count(0)
    page.get_by_role("link", name="See your registration").click()
    expect(page.get_by_role("heading", name="Your registration", exact=True)).to_be_visible()
    expect(banner.get_by_role("link", name="Programme", exact=True)).to_be_visible()
    expect(banner.get_by_role("link", name="My registration")).to_have_attribute("aria-current", "page")
