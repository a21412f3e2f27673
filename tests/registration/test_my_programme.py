"""My programme: starred sessions, booked pre-events and other apps' entries, day by day
with clashes marked; and its private calendar feed (secret token, revocable, stable UIDs,
SEQUENCE, cancellations, 304s)."""

import datetime as dt

import pytest
from django.conf import settings
from icalendar import Calendar

from agenda import services
from agenda.calendar import Entry, session_uid
from agenda.models import Session, Star
from registration import programme
from registration.models import Booking, ProgrammeFeed, Registration
from tests.agenda.conftest import local, main, text
from tests.factories import BookingFactory, ConferenceFactory, RegistrationFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conference(db):
    return ConferenceFactory(slug="growyourregion", start_date=dt.date(2030, 11, 8), end_date=dt.date(2030, 11, 9))


@pytest.fixture
def attendee(conference):
    return RegistrationFactory(conference=conference, user=UserFactory(email="elzbieta@example.org")).user


@pytest.fixture
def mine(conference, attendee):
    """Two clashing starred sessions on the first day, a cancelled starred one on the
    second, and on the eve a seat on one pre-event and a place on the waiting list of another."""
    registration = attendee.registrations.get()
    opening = SessionFactory(
        conference=conference,
        code="opening",
        title="Opening",
        start=local(conference, 0, 9),
        end=local(conference, 0, 10),
    )
    panel = SessionFactory(
        conference=conference,
        code="panel",
        title="Panel",
        start=local(conference, 0, 9, 30),
        end=local(conference, 0, 11),
    )
    dropped = SessionFactory(
        conference=conference,
        code="dropped",
        title="Dropped talk",
        start=local(conference, 1, 9),
        end=local(conference, 1, 10),
        status=Session.Status.CANCELLED,
    )
    seat = BookingFactory(
        registration=registration,
        session__code="digital",
        session__title="Digital clusters",
        session__start=local(conference, -1, 14),
        session__end=local(conference, -1, 16),
    )
    queue = BookingFactory(
        registration=registration,
        status=Booking.Status.WAITLISTED,
        session__code="green",
        session__title="Green clusters",
        session__start=local(conference, -1, 14),
        session__end=local(conference, -1, 16),
    )
    for session in (opening, panel, dropped):
        Star.objects.create(user=attendee, session=session)
    SessionFactory(conference=conference, code="unstarred", title="Not mine")
    return {"opening": opening, "panel": panel, "dropped": dropped, "digital": seat.session, "green": queue.session}


def feed_of(user, conference) -> ProgrammeFeed:
    return programme.programme_feed(user, conference)


def events(response) -> dict[str, dict]:
    calendar = Calendar.from_ical(response.content)
    return {str(event["summary"]): event for event in calendar.walk("VEVENT")}


def test_my_programme_shows_stars_and_bookings_day_by_day_with_clashes(client, conference, attendee, mine):
    client.force_login(attendee)

    page = text(client.get(f"/{conference.slug}/my-programme/"))

    assert "All times are in the conference's time zone, Europe/Madrid." in page
    eve, first, second = "Thursday 7 November 2030", "Friday 8 November 2030", "Saturday 9 November 2030"
    assert (
        page.index(eve)
        < page.index("Digital clusters")
        < page.index(first)
        < page.index("Opening")
        < page.index(second)
    )
    assert "14:00 – 16:00 CET" in page
    assert "Digital clusters Seat booked" in page
    assert "Green clusters On the waiting list" in page
    assert "Opening Starred Clash: at the same time as Panel" in page
    assert "Dropped talk Starred Cancelled" in page
    # The two pre-events on the eve clash too, and the cancelled talk clashes with nothing.
    assert "Digital clusters Seat booked Clash: at the same time as Green clusters" in page
    assert "Not mine" not in page


def test_my_programme_is_only_ones_own(client, conference, attendee, mine):
    client.force_login(UserFactory())

    page = text(client.get(f"/{conference.slug}/my-programme/"))

    assert "Opening" not in page
    assert "Digital clusters" not in page
    assert "Nothing here yet." in page


def test_unstarring_from_my_programme(client, conference, attendee, mine):
    client.force_login(attendee)
    url = f"/{conference.slug}/my-programme/"

    response = client.post(f"/{conference.slug}/agenda/opening/star/", {"action": "unstar", "next": url})

    assert response["Location"] == url
    assert "Opening" not in text(client.get(url))


def test_other_apps_add_their_entries_through_the_registry(client, conference, attendee, mine):
    meeting = Entry(
        uid="meeting-1@conference",
        title="Meeting with Marcel·la",
        start=local(conference, 0, 10, 30),
        end=local(conference, 0, 11),
        location="Table 4",
        url=f"/{conference.slug}/meetings/",
        sequence=2,
        updated_at=local(conference, -30, 9),
    )
    programme.register(
        "meetings-test", label="Bilateral meeting", entries=lambda user, conf: [meeting] if user == attendee else []
    )
    try:
        client.force_login(attendee)
        page = text(client.get(f"/{conference.slug}/my-programme/"))
        calendar = events(client.get(feed_of(attendee, conference).get_absolute_url()))
    finally:
        programme._sources.pop("meetings-test")

    assert "Meeting with Marcel·la Bilateral meeting Clash: at the same time as Panel" in page
    assert str(calendar["Meeting with Marcel·la"]["uid"]) == "meeting-1@conference"
    assert calendar["Meeting with Marcel·la"]["sequence"] == 2


def test_the_feed_holds_the_programme_with_the_public_feeds_uids(client, conference, attendee, mine):
    response = client.get(feed_of(attendee, conference).get_absolute_url())  # no login: the token is the key

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    found = events(response)
    assert set(found) == {"Opening", "Panel", "Dropped talk", "Digital clusters"}  # a waiting-list place is not a seat
    assert str(found["Opening"]["uid"]) == session_uid(mine["opening"])
    assert str(found["Dropped talk"]["status"]) == "CANCELLED"
    assert str(found["Opening"]["status"]) == "CONFIRMED"
    assert found["Opening"].decoded("dtstart") == local(conference, 0, 9)
    assert "elzbieta@example.org" not in response.content.decode()
    assert "REFRESH-INTERVAL" in response.content.decode()


def test_the_public_feed_gives_the_same_uid(client, conference, mine):
    public = Calendar.from_ical(client.get(f"/{conference.slug}/agenda.ics").content)

    assert session_uid(mine["opening"]) in {str(event["uid"]) for event in public.walk("VEVENT")}


def test_a_wrong_token_or_another_conferences_address_finds_nothing(client, conference, attendee, mine):
    token = feed_of(attendee, conference).token
    other = ConferenceFactory()

    assert client.get(f"/{conference.slug}/my-programme/{token[:-1]}x.ics").status_code == 404
    assert client.get(f"/{other.slug}/my-programme/{token}.ics").status_code == 404


def test_a_new_address_revokes_the_old_one(client, conference, attendee, mine):
    client.force_login(attendee)
    page = main(client.get(f"/{conference.slug}/my-programme/"))
    old = feed_of(attendee, conference)
    assert f'href="webcal://{settings.SITE_URL.split("://")[1]}{old.get_absolute_url()}"' in page
    assert old.token in page

    client.get(f"/{conference.slug}/my-programme/new-address/")  # only a POST renews
    assert feed_of(attendee, conference).token == old.token
    response = client.post(f"/{conference.slug}/my-programme/new-address/")

    new = feed_of(attendee, conference)
    assert response["Location"] == f"/{conference.slug}/my-programme/"
    assert "The old one no longer works" in text(client.get(response["Location"]))
    assert new.token != old.token
    assert len(new.token) >= 43
    assert client.get(old.get_absolute_url()).status_code == 404
    assert "Opening" in events(client.get(new.get_absolute_url()))


def test_the_feed_answers_304_until_the_organiser_moves_a_session(client, conference, attendee, mine):
    url = feed_of(attendee, conference).get_absolute_url()
    first = client.get(url)

    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304

    opening = mine["opening"]
    opening.start, opening.end = local(conference, 0, 15), local(conference, 0, 16)
    services.save_session(opening)

    moved = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert moved.status_code == 200
    assert moved["ETag"] != first["ETag"]
    event = events(moved)["Opening"]
    assert event.decoded("dtstart") == local(conference, 0, 15)
    assert event["sequence"] > events(first)["Opening"]["sequence"]


def test_a_new_star_changes_the_feed(client, conference, attendee, mine):
    url = feed_of(attendee, conference).get_absolute_url()
    first = client.get(url)

    Star.objects.create(user=attendee, session=Session.objects.get(code="unstarred"))

    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert "Not mine" in events(changed)


def test_the_feed_speaks_the_accounts_language(client, conference, attendee, mine):
    mine["opening"].title_es = "Apertura"
    mine["opening"].save()
    attendee.language = "es"
    attendee.save()

    assert "Apertura" in events(client.get(feed_of(attendee, conference).get_absolute_url()))


def test_a_cancelled_registration_keeps_stars_but_not_bookings(client, conference, attendee, mine):
    Registration.objects.filter(user=attendee).update(status=Registration.Status.CANCELLED)

    found = events(client.get(feed_of(attendee, conference).get_absolute_url()))

    assert "Digital clusters" not in found
    assert "Opening" in found


def test_page_and_feed_queries_do_not_grow(client, conference, attendee, mine, django_assert_num_queries):
    client.force_login(attendee)
    url = feed_of(attendee, conference).get_absolute_url()
    client.get(f"/{conference.slug}/my-programme/")
    # session, user, stars, bookings, feed, and the meetings app's entries (no profile); the
    # conference comes from the cache
    with django_assert_num_queries(6):
        client.get(f"/{conference.slug}/my-programme/")
    # the feed with its user and conference, stars, bookings, and the meetings app's entries
    with django_assert_num_queries(4):
        client.get(url)
    for hour in range(10):
        Star.objects.create(
            user=attendee, session=SessionFactory(conference=conference, start=local(conference, 1, 8 + hour))
        )
        BookingFactory(registration=attendee.registrations.get(), session__start=local(conference, -1, 8 + hour))
    with django_assert_num_queries(6):
        client.get(f"/{conference.slug}/my-programme/")
    with django_assert_num_queries(4):
        assert len(events(client.get(url))) == 24


def test_a_source_name_is_taken_once():
    def entries(user, conference):
        return []

    programme.register("meetings-test", label="Bilateral meeting", entries=entries)
    try:
        programme.register("meetings-test", label="Bilateral meeting", entries=entries)  # the same again: fine
        with pytest.raises(ValueError, match="registered already"):
            programme.register("meetings-test", label="Other", entries=entries)
    finally:
        programme._sources.pop("meetings-test")


def test_the_feed_of_a_conference_taken_offline_is_gone(client, conference, attendee, mine):
    url = feed_of(attendee, conference).get_absolute_url()
    conference.is_published = False
    conference.save()

    assert client.get(url).status_code == 404
