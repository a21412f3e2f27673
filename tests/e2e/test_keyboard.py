"""Registering with the keyboard alone: Tab, Shift+Tab, Enter, Space and the arrows, no
mouse. At every step the focused element shows a focus outline and is on screen, not
hidden under anything (such as a sticky header)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda.demo import seed_growyourregion
from agenda.models import Session
from registration.models import Booking, Registration
from tests.conftest import log_in
from tests.factories import VerifiedUserFactory

# What a sighted keyboard user sees of the focused element: its outline; whether part of
# its first box is on screen (a browser scrolls a focused text box only as far as its caret);
# and whether the middle of that part shows the element itself (or something inside it), not
# something drawn over it such as a sticky header.
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getClientRects()[0];
  const top = box && Math.max(box.top, 0), bottom = box && Math.min(box.bottom, innerHeight);
  const left = box && Math.max(box.left, 0), right = box && Math.min(box.right, innerWidth);
  const onScreen = !!box && top < bottom && left < right;
  const onTop = onScreen && document.elementFromPoint((left + right) / 2, (top + bottom) / 2);
  return {
    element: element.outerHTML.slice(0, 120),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    onScreen: onScreen,
    onTop: !!onTop && (onTop === element || element.contains(onTop)),
  };
}"""


def focused(page) -> dict:
    state = page.evaluate(FOCUSED)
    assert (state["outline"], state["onScreen"], state["onTop"]) == (True, True, True), state
    return state


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 100) -> None:
    """Press Tab (Shift+Tab) until `selector` has the focus, checking that the focus shows at each step."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused(page)
        if page.evaluate("selector => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} never took the focus in {limit} presses")


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.fixture
def conference(transactional_db):
    _past, upcoming = seed_growyourregion(today=timezone.localdate())
    return upcoming


def test_attendee_registers_with_a_pre_event_using_the_keyboard_alone(page, live_server, conference):
    user = VerifiedUserFactory(email="inaki.garcia@example.es")
    workshop = Session.objects.get(conference=conference, code="pre-s3-modernisation")
    log_in(page, user, live_server.url)
    page.goto(f"/{conference.slug}/")

    # The skip link is the first stop, shows itself, and leads into the page's content.
    tab_to(page, ".skip-link", limit=1)
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    tab_to(page, f"main a[href='/{conference.slug}/register/']", limit=1)

    # She reads in Spanish: the language list, then its button.
    tab_to(page, "#language-select", backwards=True)
    page.keyboard.press("ArrowDown")
    assert page.locator("#language-select").input_value() == "es"
    tab_to(page, ".language-switcher button", limit=1)
    press_and_wait(page, "Enter")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    tab_to(page, f"main a[href='/{conference.slug}/register/']")
    press_and_wait(page, "Enter")
    expect(page).to_have_url(f"{live_server.url}/{conference.slug}/register/")

    tab_to(page, "#id_given_name")
    page.keyboard.type("Iñaki")
    tab_to(page, "#id_family_name", limit=1)
    page.keyboard.type("García")
    tab_to(page, "#id_job_title", limit=1)
    page.keyboard.type("Cluster manager")
    tab_to(page, "#id_organisation", limit=1)
    page.keyboard.type("Clúster de la Automoción")
    # Lists: the first organisation type, and a country typed as she names it.
    tab_to(page, "#id_organisation_type", limit=1)
    page.keyboard.press("ArrowDown")
    tab_to(page, "#id_country", limit=1)
    page.keyboard.type("España")
    # Past the pre-events to the needs, then back to them: they all run at the same time, so
    # they are one choice, "none" until she moves up to the workshop with the arrow keys.
    tab_to(page, "#id_dietary_requirements")
    tab_to(page, "#id_pre_events_none", backwards=True)
    choices = page.eval_on_selector_all("input[name=pre_events]", "inputs => inputs.map(input => input.value)")
    for _ in range(len(choices) - 1 - choices.index(str(workshop.pk))):
        page.keyboard.press("ArrowUp")
    assert page.locator(f"input[name=pre_events][value='{workshop.pk}']").is_checked()
    # Sent without agreeing to the privacy statement: the summary of errors takes the focus.
    tab_to(page, ".registration-form button[type=submit]")
    press_and_wait(page, "Enter")
    summary = focused(page)
    assert "error-summary" in summary["element"]

    # Its link takes her to the checkbox she missed; the rest of the form kept what she chose.
    tab_to(page, ".error-summary a[href='#id_privacy_agreed']", limit=1)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_privacy_agreed"
    focused(page)
    page.keyboard.press("Space")
    assert page.locator("#id_given_name").input_value() == "Iñaki"
    assert page.locator(f"input[name=pre_events][value='{workshop.pk}']").is_checked()
    tab_to(page, ".registration-form button[type=submit]")
    press_and_wait(page, "Enter")

    expect(page).to_have_url(f"{live_server.url}/{conference.slug}/my-registration/")
    expect(page.locator(".booking-list")).to_contain_text(workshop.title)
    registration = Registration.objects.get(user=user)
    assert (registration.status, registration.full_name, registration.country.code, registration.language) == (
        Registration.Status.CONFIRMED,
        "Iñaki García",
        "ES",
        "es",
    )
    assert registration.organisation_type == Registration.OrganisationType.CLUSTER
    assert [(booking.session, booking.status) for booking in registration.bookings.all()] == [
        (workshop, Booking.Status.CONFIRMED)
    ]
