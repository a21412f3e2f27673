"""Contention for one popular participant's slots, under real concurrency: participants,
each with their own HTTP session and client address, post at the same moment to the live
server, whose threads each hold their own database connection."""

import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from meetings import services
from meetings.models import Meeting, MeetingRequest, MeetingSeat
from outbox.models import OutgoingEmail
from tests.factories import ConferenceFactory, MeetingBlockFactory, ProfileFactory
from tests.registration.test_concurrency import Browser

PARTICIPANTS = 100
# Requests in flight at once: each holds a server thread and a database connection, and
# PostgreSQL's default limit of 100 connections is shared with the other test processes.
IN_FLIGHT = 40

pytestmark = [pytest.mark.xdist_group("bursts"), pytest.mark.slow]


@pytest.fixture(autouse=True)
def patient_lock_waits(monkeypatch):
    """As in the registration bursts: a minute's wait for a row lock, so that a slow machine
    shows up as slowness, not as 503s."""
    options = connection.settings_dict["OPTIONS"]
    monkeypatch.setitem(options, "options", re.sub(r"lock_timeout=\w+", "lock_timeout=60s", options["options"]))


def at_once(browsers: list[Browser], act) -> list:
    """Run `act(browser, index)` for every browser; the first IN_FLIGHT are released together
    by a barrier and each later one as soon as a thread is free."""
    barrier = Barrier(IN_FLIGHT)

    def run(index: int):
        if index < IN_FLIGHT:
            barrier.wait(timeout=60)
        return act(browsers[index], index)

    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        return list(pool.map(run, range(len(browsers))))


@pytest.fixture
def event(transactional_db):
    conference = ConferenceFactory(name="GROW your REGIOn")
    # 17:00–18:30 in 15-minute slots: the popular participant's six free slots.
    block = MeetingBlockFactory(conference=conference, slot_minutes=15, tables=200, max_open_requests=PARTICIPANTS)
    popular = ProfileFactory(
        registration__conference=conference,
        registration__given_name="Elżbieta",
        registration__family_name="Bieńkowska",
    )
    others = ProfileFactory.create_batch(PARTICIPANTS, registration__conference=conference)
    return conference, block, popular, others


def browsers_for(live_server, profiles) -> list[Browser]:
    return [
        Browser(live_server.url, profile.registration.user, f"127.0.2.{index + 2}")
        for index, profile in enumerate(profiles)
    ]


def csrf(browser: Browser, path: str) -> str:
    status, _headers, page = browser.request("GET", path)
    assert status == 200, page
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_hundred_ask_one_person_at_once_and_each_request_is_made_once(live_server, event):
    conference, block, popular, others = event
    path = reverse("meetings:person", kwargs={"slug": conference.slug, "profile_id": popular.pk})
    people = browsers_for(live_server, others)
    tokens = [csrf(person, path) for person in people]

    def ask(person: Browser, index: int) -> int:
        fields = {"csrfmiddlewaretoken": tokens[index], "block": block.pk, "message": "Shall we meet?"}
        first = person.request("POST", path, fields)[0]
        replay = person.request("POST", path, fields)[0]  # a double submit
        return first, replay

    outcomes = at_once(people, ask)

    assert outcomes == [(302, 409)] * PARTICIPANTS
    assert MeetingRequest.objects.filter(recipient=popular, status="pending").count() == PARTICIPANTS
    assert OutgoingEmail.objects.filter(kind="meetings_request_sent", to=popular.registration.user.email).count() == (
        PARTICIPANTS
    )


def test_a_hundred_accept_at_once_for_six_slots_and_nobody_is_double_booked(live_server, event):
    conference, block, popular, others = event
    slots = list(block.slots.filter(is_break=False))
    assert len(slots) == 6
    requests = [services.send_request(popular, block=block, recipient=other) for other in others]
    people = browsers_for(live_server, others)
    paths = [reverse("meetings:respond", kwargs={"slug": conference.slug, "request_id": r.pk}) for r in requests]
    tokens = [csrf(person, paths[index]) for index, person in enumerate(people)]

    def accept(person: Browser, index: int) -> tuple[int, str]:
        fields = {"csrfmiddlewaretoken": tokens[index], "action": "accept", "slot": slots[index % 6].pk}
        status, _headers, page = person.request("POST", paths[index], fields)
        return status, page

    outcomes = at_once(people, accept)

    winners = [index for index, (status, _page) in enumerate(outcomes) if status == 302]
    losers = [(status, page) for status, page in outcomes if status != 302]
    assert len(winners) == 6
    # Every loser is told why, and shown what is still free (nothing, for the popular one).
    for status, page in losers:
        assert status == 409, page[:500]
        assert "That time was just taken" in page or "as many meetings as allowed" in page
    scheduled = Meeting.objects.filter(block=block, status="scheduled")
    assert scheduled.count() == 6
    assert sorted(scheduled.values_list("slot_id", flat=True)) == sorted(slot.pk for slot in slots)
    assert not MeetingSeat.objects.values("profile", "slot").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert not scheduled.values("slot", "table").annotate(n=Count("pk")).filter(n__gt=1).exists()
    # Losers' requests still wait; nothing half-written.
    assert MeetingRequest.objects.filter(status="pending").count() == PARTICIPANTS - 6
    assert MeetingSeat.objects.count() == 12
