"""Every page a visitor can reach passes axe-core's WCAG 2.2 AA rules and reflows without
scrolling sideways down to 320 px, in English and in Spanish, with the demo's programme and
people on it."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC

from accounts.models import TeamInvitation
from tests.conftest import axe_violations, log_in
from tests.e2e.conftest import Demo
from tests.factories import TeamFactory, UserFactory


@dataclass(frozen=True)
class Visit:
    """Who looks (an attribute of Demo, or nobody) and how they get to the page."""

    who: str | None
    go: Callable


def path(template: str) -> Callable:
    return lambda page, demo: page.goto(
        template.format(slug=demo.conference.slug, day=demo.pre_event_day, first_day=demo.conference.start_date)
    )


def failed_login(page, demo: Demo) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(demo.confirmed.email)
    page.locator("#id_password").fill("not the password")
    page.locator("form.login button[type=submit], main form button[type=submit]").first.click()
    page.wait_for_selector(".errorlist")


def email_confirmation(page, demo: Demo) -> None:
    user = UserFactory(email="new.attendee@example.org")
    address = EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    page.goto(f"/accounts/confirm-email/{EmailConfirmationHMAC(address).key}/")


def team_invitation(*, refused: bool) -> Callable:
    """The page of an invitation to join a team, sent to the newcomer (or to someone else)."""

    def go(page, demo: Demo) -> None:
        team = TeamFactory(name="Registration desk", conferences=[demo.conference], can_view_registrations=True)
        email = "someone.else@example.org" if refused else demo.newcomer.email
        invitation = TeamInvitation.objects.create(team=team, email=email, token=f"invitation-{refused}")
        page.goto(f"/accounts/teams/join/{invitation.token}/")

    return go


def submitted_empty(template: str) -> Callable:
    """The form at `template` sent back with errors."""

    def go(page, demo: Demo) -> None:
        path(template)(page, demo)
        for field in page.locator("main form input[type=text], main form textarea").all():
            field.fill("")
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_selector(".error-summary")

    return go


PAGES = {
    "conference list": Visit(None, path("/")),
    "conference": Visit(None, path("/{slug}/")),
    "agenda, parallel pre-events": Visit(None, path("/{slug}/agenda/?day={day}")),
    "agenda, first day": Visit(None, path("/{slug}/agenda/?day={first_day}")),
    "agenda, filtered": Visit(None, path("/{slug}/agenda/?kind=keynote&kind=plenary")),
    "session": Visit(None, path("/{slug}/agenda/keynote-grow/")),
    "pre-event, fully booked": Visit(None, path("/{slug}/agenda/pre-interreg/")),
    "session, logged in with its star form": Visit("confirmed", path("/{slug}/agenda/keynote-grow/")),
    "agenda, logged in with star forms": Visit("confirmed", path("/{slug}/agenda/?day={first_day}")),
    "search": Visit(None, path("/{slug}/search/?q=cluster")),
    "search, too long": Visit(None, path("/{slug}/search/?q=" + "x" * 101)),
    "my programme": Visit("confirmed", path("/{slug}/my-programme/")),
    "speakers": Visit(None, path("/{slug}/speakers/")),
    "speaker": Visit(None, path("/{slug}/speakers/antti-peltomaki/")),
    "log in": Visit(None, path("/accounts/login/")),
    "log in, failed": Visit(None, failed_login),
    "sign up": Visit(None, path("/accounts/signup/")),
    "password reset": Visit(None, path("/accounts/password/reset/")),
    "password reset sent": Visit(None, path("/accounts/password/reset/done/")),
    "verification sent": Visit(None, path("/accounts/confirm-email/")),
    "email confirmation": Visit(None, email_confirmation),
    "log out": Visit("confirmed", path("/accounts/logout/")),
    "registration form": Visit("newcomer", path("/{slug}/register/")),
    "registration form, with errors": Visit("newcomer", submitted_empty("/{slug}/register/")),
    "my registration, confirmed": Visit("confirmed", path("/{slug}/my-registration/")),
    "my registration, waitlisted": Visit("waitlisted", path("/{slug}/my-registration/")),
    "change details": Visit("confirmed", path("/{slug}/my-registration/details/")),
    "change details, with errors": Visit("confirmed", submitted_empty("/{slug}/my-registration/details/")),
    "change pre-events": Visit("confirmed", path("/{slug}/my-registration/pre-events/")),
    "cancel": Visit("confirmed", path("/{slug}/my-registration/cancel/")),
    "delete account": Visit("confirmed", path("/{slug}/my-registration/delete-account/")),
    "staff dashboard": Visit("staff", path("/{slug}/staff/")),
    "staff list, invalid choices": Visit("staff", path("/{slug}/staff/attendees.csv?status=gone&registered_from=soon")),
    "team invitation": Visit("newcomer", team_invitation(refused=False)),
    "team invitation, for someone else": Visit("newcomer", team_invitation(refused=True)),
    "accessibility statement": Visit(None, path("/accessibility/")),
    "report a problem": Visit(None, path("/accessibility/report/?page=/{slug}/agenda/")),
    "report a problem, with errors": Visit("confirmed", submitted_empty("/accessibility/report/")),
    "403": Visit("confirmed", path("/{slug}/staff/")),
    "404": Visit(None, path("/no-such-page/")),
}


# A desktop screen, a phone's, and the 320 CSS pixels at which content must still reflow
# without scrolling sideways (WCAG 1.4.10): the layout, and so what axe finds, changes with
# the width.
WIDTHS = {"desktop": 1280, "phone": 390, "narrowest": 320}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_wcag_violations(axe_page, live_server, demo, name, language):
    visit = PAGES[name]
    axe_page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    if visit.who:
        log_in(axe_page, getattr(demo, visit.who), live_server.url)
    visit.go(axe_page, demo)

    assert axe_page.locator("html").get_attribute("lang") == language
    found, overflow = {}, {}
    for screen, width in WIDTHS.items():
        axe_page.set_viewport_size({"width": width, "height": 800})
        found[screen] = axe_violations(axe_page)
        scroll_width = axe_page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            overflow[screen] = f"{scroll_width} px wide at {width} px"
    assert found == {screen: [] for screen in WIDTHS}
    assert overflow == {}  # scrolls sideways


def test_axe_reports_what_it_should(axe_page, live_server, transactional_db):
    axe_page.goto("/")
    axe_page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x.png>')")

    assert [violation["id"] for violation in axe_violations(axe_page)] == ["image-alt"]
