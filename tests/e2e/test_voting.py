"""Smart voting in the room: three phones and the big screen, the moderator on a laptop."""

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_violations, log_in
from tests.factories import OrganiserFactory, RegistrationFactory, SessionFactory, VerifiedUserFactory
from tests.voting.factories import PollFactory, attendee_voter
from voting import services
from voting.models import Poll, Vote

WINNER = "Supporting cross-sectoral collaboration"
OTHER = "Strategic cross-regional collaboration"


@pytest.fixture
def room(transactional_db):
    session = SessionFactory(title="Smart voting", kind="voting", conference__name="GROW your REGIOn")
    poll = PollFactory(session=session, question="Which action is most needed?", options=[WINNER, OTHER])
    attendees = [
        RegistrationFactory(conference=session.conference, user=VerifiedUserFactory(), country=country).user
        for country in ("PL", "ES", "SE")
    ]
    return session, poll, attendees


def phone(browser, live_server, user, *, javascript: bool = True):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, user, live_server.url)
    return page


def vote(page, label: str) -> None:
    page.get_by_label(label).check()
    page.locator("form.ballot").get_by_role("button").click()
    expect(page.get_by_text("Your vote was counted.")).to_be_visible()
    expect(page.get_by_label(label)).to_be_checked()


def row(screen, label: str):
    return screen.locator(".results-table tbody tr").filter(has_text=label).locator(".result-count")


def test_three_phones_vote_and_one_changes_and_the_screen_follows_within_two_seconds(page, browser, live_server, room):
    session, poll, attendees = room
    slug = session.conference.slug
    phones = [phone(browser, live_server, user) for user in attendees]
    for each in phones:
        each.goto(f"/{slug}/vote/")
        expect(each.get_by_text("Nothing to vote on right now.")).to_be_visible()
    log_in(page, OrganiserFactory(), live_server.url)
    page.goto(f"/{slug}/vote/{session.code}/screen/")
    moderator = page.context.new_page()
    moderator.goto(f"/{slug}/vote/{session.code}/moderate/")
    expect(page.locator("svg.qr")).to_be_visible()

    moderator.get_by_role("button", name="Open for votes").click()
    expect(moderator.get_by_text("Open", exact=False).first).to_be_visible()

    # The phones were open before the poll: it appears on them by itself.
    for each in phones:
        expect(each.get_by_role("radio", name=WINNER)).to_be_visible(timeout=5_000)
    vote(phones[0], WINNER)
    vote(phones[1], WINNER)
    vote(phones[2], WINNER)
    vote(phones[2], OTHER)

    expect(row(page, WINNER)).to_have_text("2", timeout=2_000)
    expect(row(page, OTHER)).to_have_text("1", timeout=2_000)
    expect(page.locator("#screen-status")).to_have_text("3 votes", timeout=2_000)

    moderator.get_by_role("button", name="Close").click()
    expect(page.get_by_text("Voting is closed")).to_be_visible(timeout=2_000)
    moderator.get_by_role("button", name="Show the results").click()
    expect(moderator.get_by_role("heading", name="Results: Which action is most needed?")).to_be_visible()

    phones[0].goto(session.get_absolute_url())
    results = phones[0].get_by_role("region", name="Voting results")
    expect(results.locator("tr").filter(has_text=WINNER)).to_contain_text("2")
    expect(results.locator("tr").filter(has_text=OTHER)).to_contain_text("1")
    assert Vote.objects.filter(poll=poll).count() == 3
    poll.refresh_from_db()
    assert poll.state == Poll.State.REVEALED


def test_the_screen_starts_its_stream_again_after_an_answer_that_is_not_one(page, live_server, room):
    session, poll, _attendees = room
    services.open_poll(poll)
    refused = []

    def unavailable_once(route):
        # What the site answers while its database is away, the first time only.
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, content_type="text/html", body="<p>Back soon</p>")
        else:
            route.continue_()

    page.route("**/screen/events", unavailable_once)
    log_in(page, OrganiserFactory(), live_server.url)
    page.goto(f"/{session.conference.slug}/vote/{session.code}/screen/")
    services.cast_vote(poll, voter=attendee_voter(session.conference), options=[poll.options.get(label=OTHER).pk])

    expect(page.locator("#screen-status")).to_have_text("1 vote", timeout=10_000)
    assert len(refused) == 1


def test_a_phone_without_javascript_votes_with_a_plain_post(browser, live_server, room):
    session, poll, attendees = room
    services.open_poll(poll)
    no_script = phone(browser, live_server, attendees[0], javascript=False)

    no_script.goto(f"/{session.conference.slug}/vote/")
    vote(no_script, OTHER)
    services.close_poll(poll)
    no_script.get_by_label(WINNER).check()
    no_script.get_by_role("button", name="Change my vote").click()

    expect(no_script.get_by_text("This poll is not open for votes; nothing was counted.")).to_be_visible()
    assert list(Vote.objects.values_list("answers__option__label", flat=True)) == [OTHER]


def test_the_voter_moderator_and_screen_pages_pass_axe(axe_page, live_server, room):
    session, poll, attendees = room
    services.open_poll(poll)
    services.set_questions(session, enabled=True)
    services.set_join_code(session, enabled=True)
    slug = session.conference.slug

    log_in(axe_page, attendees[0], live_server.url)
    axe_page.goto(f"/{slug}/vote/")
    assert axe_violations(axe_page) == []

    log_in(axe_page, OrganiserFactory(), live_server.url)
    for path in (f"/{slug}/vote/{session.code}/moderate/", f"/{slug}/vote/{session.code}/screen/"):
        axe_page.goto(path)
        assert axe_violations(axe_page) == [], path
    axe_page.set_viewport_size({"width": 320, "height": 640})
    axe_page.goto(f"/{slug}/vote/{session.code}/screen/")
    wide = axe_page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 320)"
        ".map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"
    )
    assert axe_page.evaluate("document.documentElement.scrollWidth <= 320"), wide


def test_the_moderator_page_shows_a_new_question_by_itself(page, live_server, room):
    session, poll, _attendees = room
    services.open_poll(poll)
    services.set_questions(session, enabled=True)
    log_in(page, OrganiserFactory(), live_server.url)
    page.goto(f"{live_server.url}/{session.conference.slug}/vote/{session.code}/moderate/")
    questions = page.locator(".question-list")
    expect(questions).to_contain_text("No questions yet.")

    services.ask_question(session, voter=attendee_voter(session.conference), text="Who funds the pilots?")

    expect(questions).to_contain_text("Who funds the pilots?", timeout=10_000)
    expect(page.locator("#moderate-updated")).to_have_text("The polls and questions were updated.")
