from playwright.sync_api import expect

from outbox.models import OutgoingEmail
from registration.models import User
from tests.conftest import first_link


def test_new_user_signs_up_verifies_by_email_and_is_logged_in(page, celery_worker, smtp_sink):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("elzbieta@example.eu")
    page.get_by_label("Password:", exact=True).fill("Klastry-2017-Valencia")
    page.get_by_label("Password (again):").fill("Klastry-2017-Valencia")
    page.get_by_role("button", name="Sign Up").click()

    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    message = smtp_sink.to("elzbieta@example.eu")
    assert message["Auto-Submitted"] == "auto-generated"
    page.goto(first_link(message))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("link", name="Log out")).to_be_visible()
    user = User.objects.get(email="elzbieta@example.eu")
    assert user.emailaddress_set.get().verified
    assert OutgoingEmail.objects.get(to="elzbieta@example.eu").status == OutgoingEmail.Status.SENT
