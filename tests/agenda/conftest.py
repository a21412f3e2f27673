import datetime as dt
import html
import re
import zoneinfo
from pathlib import Path

import pytest
from django.utils import timezone

from agenda.models import Session, SessionSpeaker
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    RoomFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
)

# The published frab schemas, kept with the tests (schemas/README.md says where from).
SCHEMAS = Path(__file__).resolve().parent / "schemas"


def main(response) -> str:
    """The page's main landmark, whitespace squeezed, for assertions on content."""
    markup = response.content.decode()
    return re.sub(r"\s+", " ", re.search(r"<main.*?</main>", markup, re.S).group(0))


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main(response))))


def local(conference, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment on the conference's day `day` (0 = first day), in its time zone."""
    date = conference.start_date + dt.timedelta(days=day)
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(conference.timezone))


def build_programme(conference, sessions: int, *, rooms: int = 3):
    """A programme of `sessions` sessions, every kind of thing a page shows: parallel
    sessions in several rooms on two days, tracks, 1-3 speakers each with roles, a
    bookable pre-event with bookings, a cancelled session and a break spanning all rooms."""
    room_list = [RoomFactory(conference=conference, capacity=50) for _ in range(rooms)]
    tracks = [TrackFactory(conference=conference, name=f"{n} Innovation") for n in range(2)]
    speakers = [SpeakerFactory(conference=conference) for _ in range(4)]
    kinds = [Session.Kind.PRE_EVENT, Session.Kind.PLENARY, Session.Kind.WORKSHOP, Session.Kind.PANEL]
    created = []
    for index in range(sessions):
        slot, column = divmod(index, rooms)
        start = local(conference, slot % 2, 9 + slot // 2)
        session = SessionFactory(
            conference=conference,
            kind=kinds[index % len(kinds)],
            room=room_list[column] if index % 7 != 6 else None,
            track=tracks[index % 2] if index % 3 else None,
            start=start,
            end=start + dt.timedelta(minutes=50),
            status=Session.Status.CANCELLED if index % 5 == 4 else Session.Status.CONFIRMED,
        )
        for position in range(1 + index % 3):
            SessionSpeaker.objects.create(
                session=session,
                speaker=speakers[(index + position) % len(speakers)],
                position=position,
                role=SessionSpeaker.Role.MODERATOR if position == 2 else SessionSpeaker.Role.SPEAKER,
            )
        if session.kind == Session.Kind.PRE_EVENT:
            BookingFactory(session=session, registration__conference=conference)
        created.append(session)
    return created


@pytest.fixture
def conference(db):
    """The 2017 edition: Valencia, 8-9 November, in winter time (CET)."""
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")
    return ConferenceFactory(
        name="GROW your REGIOn",
        slug="growyourregion-2017",
        start_date=dt.date(2017, 11, 8),
        end_date=dt.date(2017, 11, 9),
        registration_opens=dt.datetime(2017, 6, 1, tzinfo=madrid),
        registration_closes=dt.datetime(2017, 11, 1, tzinfo=madrid),
    )


# A month before the 2017 edition and its pre-events of 7 November.
BEFORE_2017 = dt.datetime(2017, 10, 2, 10, tzinfo=dt.UTC)


@pytest.fixture
def before_the_conference(monkeypatch) -> dt.datetime:
    """Today is early October 2017: the 2017 edition (and any conference on its dates) has not
    begun, so its pre-events take bookings and the pages count their seats. Without this
    fixture the edition is over, and they show none."""
    monkeypatch.setattr(timezone, "now", lambda: BEFORE_2017)
    return BEFORE_2017


@pytest.fixture
def schemas() -> Path:
    return SCHEMAS
