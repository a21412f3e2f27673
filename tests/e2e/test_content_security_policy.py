"""The site, allauth's pages and the Django admin work under the strict Content-Security-Policy
and the Permissions-Policy: Chromium reports no violation or header error while a person uses them."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ConferenceFactory, OrganiserFactory


@pytest.fixture
def violations(page) -> list[str]:
    """Every Content-Security-Policy violation or Permissions-Policy error Chromium reports on this page."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text
            else None
        ),
    )
    return found


def test_account_pages_work_under_the_policy(page, violations, transactional_db):
    conference = ConferenceFactory(name="GROW your REGIOn 2026")

    page.goto("/")
    page.get_by_role("link", name="GROW your REGIOn 2026").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(conference.name)
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_label("Email")).to_be_visible()
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("someone@example.org")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert violations == []


def test_the_admin_works_under_the_policy(page, violations, transactional_db):
    organiser = OrganiserFactory(email="organiser@example.org")

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(organiser.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.get_by_role("link", name="Users").first.click()
    page.get_by_role("link", name="organiser@example.org").click()
    # The scripted widgets: the two-list chooser for permissions and the calendar.
    expect(page.locator("#id_user_permissions_from")).to_be_visible()
    page.locator("#id_user_permissions_add_all").click()
    page.locator("#calendarlink0").click()
    expect(page.locator("#calendarbox0")).to_be_visible()
    page.locator("#calendarbox0").get_by_role("link", name="Today").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    page.goto("/admin/auth/group/add/")
    page.get_by_label("Name").fill("Check-in desk")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()

    assert violations == []


def test_the_policy_blocks_inline_code(page, violations, live_server):
    page.goto("/healthz")

    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
    }""")

    assert page.evaluate("() => window.injected") is None
    assert any("script-src 'self'" in violation for violation in violations), violations
