"""The public pages and exports: their content, their bad input, their cache and their
query counts (the same for one session as for many)."""

import datetime as dt
import json
import re
import time
import zoneinfo

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django.utils.formats import get_format
from icalendar import Calendar

from agenda import caching, services
from agenda.models import Session, SessionSpeaker
from conference.formats import CUSTOM_FORMATS
from tests.agenda.conftest import build_programme, local, main, text
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    RoomFactory,
    SessionFactory,
    SessionSpeakerFactory,
    SpeakerFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(conference):
    """A small real programme: the 2017 edition's first day."""
    hall = RoomFactory(conference=conference, name="Auditorium", capacity=350, position=0)
    sala = RoomFactory(conference=conference, name="Sala Mediterráneo", capacity=40, position=1)
    innovation = TrackFactory(conference=conference, name="Innovation", colour="#aa3300")
    puig = SpeakerFactory(
        conference=conference,
        code="puig",
        name="Ximo Puig",
        title="President of the Valencia Regional Government",
        organisation="Generalitat Valenciana",
        biography="Born in Morella.",
    )
    berkowitz = SpeakerFactory(conference=conference, code="berkowitz", name="Peter Berkowitz")
    opening = SessionFactory(
        conference=conference,
        code="opening",
        title="Welcome to Valencia",
        kind=Session.Kind.KEYNOTE,
        room=None,
        start=local(conference, 0, 9),
        end=local(conference, 0, 9, 45),
        abstract="Why clusters matter to regions.",
    )
    SessionSpeakerFactory(session=opening, speaker=puig)
    digital = SessionFactory(
        conference=conference,
        code="pre-digital",
        title="Digital clusters",
        kind=Session.Kind.PRE_EVENT,
        room=sala,
        track=innovation,
        capacity=30,
        start=local(conference, -1, 14),
        end=local(conference, -1, 17),
    )
    SessionSpeakerFactory(session=digital, speaker=berkowitz, role=SessionSpeaker.Role.MODERATOR)
    SessionFactory(
        conference=conference,
        code="pre-food",
        title="Smart agrifood",
        kind=Session.Kind.PRE_EVENT,
        room=hall,
        start=local(conference, -1, 14),
        end=local(conference, -1, 17),
    )
    SessionFactory(
        conference=conference,
        code="voting",
        title="Smart voting",
        kind=Session.Kind.VOTING,
        room=hall,
        status=Session.Status.CANCELLED,
        start=local(conference, 1, 11),
        end=local(conference, 1, 12),
    )
    for _ in range(3):
        BookingFactory(session=digital, registration__conference=conference)
    return {"opening": opening, "digital": digital, "innovation": innovation}


# The conference list


def test_conference_list_shows_upcoming_first_and_past(client, conference):
    upcoming = ConferenceFactory(name="GROW your REGIOn 2027")
    ConferenceFactory(name="Unpublished", is_published=False)

    page = text(client.get("/"))

    assert page.index("GROW your REGIOn 2027") < page.index("8 November 2017")
    assert "Unpublished" not in page
    markup = main(client.get("/"))
    assert f'href="/{upcoming.slug}/"' in markup
    assert f'<a href="/{upcoming.slug}/agenda/">See the programme</a> · <strong>Registration is open</strong>' in markup
    assert markup.count("Registration is open") == 1  # not the 2017 edition


def test_conference_list_queries_do_not_grow(client, django_assert_num_queries):
    ConferenceFactory()
    with django_assert_num_queries(2):
        client.get("/")
    for _ in range(5):
        ConferenceFactory()
    with django_assert_num_queries(2):
        client.get("/")


# The conference page


def test_conference_page_shows_dates_venue_keynote_speakers(client, conference, programme):
    page = text(client.get(f"/{conference.slug}/"))

    assert "GROW your REGIOn" in page
    assert "Wednesday 8 November 2017 – Thursday 9 November 2017" in page
    assert "Veles e Vents, Valencia" in page
    assert "Keynote speakers" in page
    assert f'<h3><a href="/{conference.slug}/speakers/puig/">Ximo Puig</a></h3>' in main(
        client.get(f"/{conference.slug}/")
    )
    assert "Ximo Puig" in page
    assert "President of the Valencia Regional Government" in page
    assert "Peter Berkowitz" not in page  # a moderator of a pre-event, not a keynote
    assert "This conference has taken place." in page
    assert "Register" not in page


def test_conference_page_keynote_speakers_leave_out_the_moderator_of_a_keynote(client, conference):
    keynote = SessionFactory(conference=conference, kind=Session.Kind.KEYNOTE, title="Smart specialisation")
    SessionSpeakerFactory(session=keynote, speaker__name="Antti Peltomäki", role=SessionSpeaker.Role.SPEAKER)
    SessionSpeakerFactory(session=keynote, speaker__name="Ulla Engelmann", role=SessionSpeaker.Role.MODERATOR)
    SessionSpeakerFactory(session=keynote, speaker__name="Slawomir Tokarski", role=SessionSpeaker.Role.CHAIR)

    keynotes = main(client.get(f"/{conference.slug}/"))

    assert "Antti Peltomäki" in keynotes
    assert "Ulla Engelmann" not in keynotes
    assert "Slawomir Tokarski" not in keynotes


def test_conference_page_register_button_while_registration_is_open(client):
    conference = ConferenceFactory()

    markup = main(client.get(f"/{conference.slug}/"))

    assert f'<a class="button" href="/{conference.slug}/register/">Register</a>' in markup
    # It closes at midnight starting the first day: the last minute one can register is the day before's.
    last_day = conference.start_date - dt.timedelta(days=1)
    assert f"Registration is open until {last_day:%-d %B %Y}, 23:59 (Europe/Madrid)." in markup


def test_conference_page_says_when_registration_opens(client):
    opens = dt.datetime(2099, 1, 15, 9, tzinfo=zoneinfo.ZoneInfo("Europe/Madrid"))
    conference = ConferenceFactory(start_date=dt.date(2099, 3, 1), registration_opens=opens)

    response = client.get(f"/{conference.slug}/")

    assert "Registration opens on 15 January 2099, 09:00 (Europe/Madrid)." in text(response)
    assert "/register/" not in main(response)


def test_conference_page_of_unpublished_or_cancelled_conference_is_404(client):
    for conference in (ConferenceFactory(is_published=False), ConferenceFactory(is_cancelled=True)):
        response = client.get(f"/{conference.slug}/")
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()


# The agenda


def test_agenda_shows_the_first_day_with_parallel_sessions_and_seats(
    before_the_conference, client, conference, programme
):
    response = client.get(f"/{conference.slug}/agenda/")
    page, markup = text(response), main(response)

    assert "Tuesday 7 November 2017" in page  # the pre-events' day, before the conference days
    assert "All times are in the conference's time zone, Europe/Madrid (CET)." in page
    assert page.index("Smart agrifood") < page.index("Digital clusters")  # room order
    assert "14:00 – 17:00 CET · Auditorium" in page
    assert "Parallel pre-event" in page
    assert "Innovation" in page
    assert "27 seats left" in page  # 30 seats, 3 booked
    assert "350 seats left" in page  # the room's capacity
    assert 'class="programme grid rooms-2"' in markup
    assert 'aria-current="date"' in markup
    assert "Welcome to Valencia" not in page  # another day


def test_agenda_other_day_shows_cancelled_sessions_struck_through(client, conference, programme):
    response = client.get(f"/{conference.slug}/agenda/?day=2017-11-09")

    assert "Smart voting" in text(response)
    assert re.search(
        r'class="session kind-voting col-1 is-cancelled">.*?<p class="status">Cancelled</p>', main(response)
    )


def test_agenda_during_the_conference_opens_on_today(client):
    conference = ConferenceFactory(start_date=timezone.localdate() - dt.timedelta(days=1), registration_opens=None)
    SessionFactory(conference=conference, title="Yesterday's opening", start=local(conference, 0, 9))
    SessionFactory(conference=conference, title="Today's closing", start=local(conference, 1, 9))

    page = text(client.get(f"/{conference.slug}/agenda/"))

    assert "Today's closing" in page
    assert "Yesterday's opening" not in page


def test_agenda_filters_by_kind_and_track_and_keeps_them_in_links(client, conference, programme):
    track = programme["innovation"].pk

    response = client.get(f"/{conference.slug}/agenda/?day=2017-11-07&kind=pre_event&track={track}")
    markup = main(response)

    assert "Digital clusters" in markup
    assert "Smart agrifood" not in markup
    assert f'href="/{conference.slug}/agenda.ics?kind=pre_event&amp;track={track}"' in markup
    assert f'href="webcal://127.0.0.1:8000/{conference.slug}/agenda.ics?kind=pre_event&amp;track={track}"' in markup
    assert f'href="?day=2017-11-08&amp;kind=pre_event&amp;track={track}"' in markup
    assert 'name="kind" value="pre_event" checked' in markup
    assert '<details class="filters" open>' in markup


def test_agenda_has_a_legend_of_the_track_colours_and_names_each_track_in_words(client, conference, programme):
    markup = main(client.get(f"/{conference.slug}/agenda/?day=2017-11-07"))

    legend = re.search(r'<section class="legend".*?</section>', markup).group(0)
    assert "Colours of the tracks" in legend
    assert re.search(r'fill="#aa3300"/></svg> Innovation</li>', legend)
    # Each card of the track names it in words beside its colour; the kind is words only.
    card = re.search(r'<li class="session[^"]*">(?:(?!</li>).)*Digital clusters.*?</li>', markup).group(0)
    assert re.search(r'<svg class="track-stripe".*?fill="#aa3300"', card)
    assert re.search(r'<span class="track"><svg class="swatch".*?fill="#aa3300"/></svg> Innovation</span>', card)
    assert '<span class="kind">Parallel pre-event</span>' in card


def test_agenda_filters_that_match_nothing_say_so(client, conference, programme):
    page = text(client.get(f"/{conference.slug}/agenda/?day=2017-11-07&kind=keynote"))

    assert "Nothing on this day matches these filters." in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=concert", "“concert” is not one of the options; choose one from the list."),
        ("track=abc", "“abc” is not a number."),
        ("track=999999", "This programme has no track 999999."),
        ("day=8-11-2017", "Enter a valid date."),
    ],
)
def test_agenda_bad_filters_are_a_400_that_says_why(client, conference, programme, query, message):
    response = client.get(f"/{conference.slug}/agenda/?{query}")

    assert response.status_code == 400
    assert message in text(response)


def test_agenda_day_without_programme_is_404(client, conference, programme):
    assert client.get(f"/{conference.slug}/agenda/?day=2018-01-01").status_code == 404


# One session


def test_session_page_shows_speakers_room_time_parallel_and_calendar(
    before_the_conference, client, conference, programme
):
    response = client.get(f"/{conference.slug}/agenda/pre-digital/")
    page, markup = text(response), main(response)

    assert response.status_code == 200
    assert '<h1 class="session-title">Digital clusters</h1>' in markup
    assert "Tuesday 7 November 2017, 14:00 – 17:00 CET" in page
    assert "Sala Mediterráneo, Veles e Vents" in page
    assert "Peter Berkowitz (Moderator)" in page
    assert "27 seats left" in page
    assert "At the same time" in page
    assert "Smart agrifood" in page
    assert f'href="/{conference.slug}/agenda/pre-digital.ics"' in markup
    assert "English" in page
    assert "<title>Digital clusters · GROW your REGIOn</title>" in response.content.decode()


def test_session_page_of_a_full_pre_event_offers_the_waiting_list(before_the_conference, client, conference, programme):
    digital = programme["digital"]
    digital.capacity = 3
    services.save_session(digital)

    assert "Fully booked: you can join the waiting list." in text(client.get(f"/{conference.slug}/agenda/pre-digital/"))


def test_session_page_unknown_code_is_404(client, conference, programme):
    assert client.get(f"/{conference.slug}/agenda/nothing/").status_code == 404


# Speakers


def test_speaker_pages_list_and_detail(client, conference, programme):
    listing = text(client.get(f"/{conference.slug}/speakers/"))
    detail = client.get(f"/{conference.slug}/speakers/puig/")

    assert listing.index("Peter Berkowitz") < listing.index("Ximo Puig")
    assert f'<h2><a href="/{conference.slug}/speakers/berkowitz/">Peter Berkowitz</a></h2>' in main(
        client.get(f"/{conference.slug}/speakers/")
    )
    assert "Generalitat Valenciana" in listing
    assert "Born in Morella." in text(detail)
    assert "Welcome to Valencia" in text(detail)
    assert "Wednesday 8 November 2017, 09:00 – 09:45 CET · All rooms" in text(detail)
    assert client.get(f"/{conference.slug}/speakers/nobody/").status_code == 404


# Calendar files


def test_agenda_ics_has_every_session_and_keeps_filters(client, conference, programme):
    response = client.get(f"/{conference.slug}/agenda.ics")
    filtered = client.get(f"/{conference.slug}/agenda.ics?kind=pre_event&track={programme['innovation'].pk}")

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    summaries = {str(event["summary"]) for event in Calendar.from_ical(response.content).walk("VEVENT")}
    assert summaries == {"Welcome to Valencia", "Digital clusters", "Smart agrifood", "Smart voting"}
    assert [str(event["summary"]) for event in Calendar.from_ical(filtered.content).walk("VEVENT")] == [
        "Digital clusters"
    ]
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.content


def test_session_ics_is_one_event_to_add_to_a_calendar(client, conference, programme):
    response = client.get(f"/{conference.slug}/agenda/opening.ics")

    assert response["Content-Disposition"] == f'attachment; filename="{conference.slug}-opening.ics"'
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert event["uid"] == f"{programme['opening'].guid}@conference"
    assert event["description"] == "Why clusters matter to regions."


def test_agenda_ics_bad_filter_is_a_400_in_words(client, conference, programme):
    response = client.get(f"/{conference.slug}/agenda.ics?track=999999")

    assert response.status_code == 400
    assert response.content.decode() == "This programme has no track 999999."


# A conference that has ended


def test_pages_of_a_conference_that_has_ended_show_no_seats_and_count_none(
    client, conference, programme, django_assert_num_queries
):
    digital = programme["digital"]
    digital.capacity = 3  # full: before the end it offered the waiting list
    services.save_session(digital)
    slug = conference.slug
    pages = [f"/{slug}/", f"/{slug}/agenda/", f"/{slug}/agenda/pre-digital/", f"/{slug}/agenda/pre-food/"]

    for url in pages:
        page = text(client.get(url))
        assert "seat" not in page, url
        assert "waiting list" not in page, url
    wait_for_seats_left()
    with django_assert_num_queries(0):  # nothing to count: the whole pages stay in the cache
        for url in pages:
            client.get(url)


# The cache


def wait_for_seats_left():
    """Seats left may lag a second behind a booking (caching.SEATS_LAG)."""
    time.sleep(caching.SEATS_LAG + 0.1)


def test_pages_come_from_the_cache_until_an_organiser_edits(client, conference, programme, django_assert_num_queries):
    url = f"/{conference.slug}/agenda/?day=2017-11-07"
    client.get(url)

    with django_assert_num_queries(0):  # the whole page, its conference and seats left from the cache
        assert "Digital clusters" in text(client.get(url))

    digital = programme["digital"]
    digital.title = "Digital and creative clusters"
    services.save_session(digital)

    assert "Digital and creative clusters" in text(client.get(url))


def test_seats_left_move_without_rebuilding_the_programme(
    before_the_conference, client, conference, programme, django_assert_num_queries
):
    url = f"/{conference.slug}/agenda/pre-digital/"
    assert "27 seats left" in text(client.get(url))

    BookingFactory(session=programme["digital"], registration__conference=conference)
    wait_for_seats_left()

    with django_assert_num_queries(1):  # the seats left; the programme is still in the cache
        assert "26 seats left" in text(client.get(url))


def test_booking_elsewhere_leaves_a_page_and_its_etag_alone(client, conference, programme):
    url = f"/{conference.slug}/agenda/opening/"
    first = client.get(url)

    BookingFactory(session=programme["digital"], registration__conference=conference)

    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_pages_are_cached_per_language(client, conference, programme):
    german = text(client.get(f"/{conference.slug}/agenda/", HTTP_ACCEPT_LANGUAGE="de"))
    english = text(client.get(f"/{conference.slug}/agenda/", HTTP_ACCEPT_LANGUAGE="en"))

    assert "Dienstag" in german
    assert "Tuesday" in english


@pytest.mark.parametrize(
    ("language", "days", "session_day", "times", "day_link"),
    [
        (
            "en",
            "Wednesday 8 November 2017 – Thursday 9 November 2017",
            "Tuesday 7 November 2017",
            "14:00 – 17:00",
            "Tuesday 7 November",
        ),
        (
            "es",
            "miércoles, 8 de noviembre de 2017 – jueves, 9 de noviembre de 2017",
            "martes, 7 de noviembre de 2017",
            "14:00 – 17:00",
            "martes, 7 de noviembre",
        ),
        (
            "fr",
            "mercredi 8 novembre 2017 – jeudi 9 novembre 2017",
            "mardi 7 novembre 2017",
            "14:00 – 17:00",
            "mardi 7 novembre",
        ),
        (
            "de",
            "Mittwoch, 8. November 2017 – Donnerstag, 9. November 2017",
            "Dienstag, 7. November 2017",
            "14:00 – 17:00",
            "Dienstag, 7. November",
        ),
    ],
)
def test_pages_write_dates_and_times_as_readers_of_the_language_do(
    client, conference, programme, language, days, session_day, times, day_link
):
    client.cookies["django_language"] = language

    overview = text(client.get(f"/{conference.slug}/"))
    session = text(client.get(f"/{conference.slug}/agenda/pre-digital/"))
    agenda = main(client.get(f"/{conference.slug}/agenda/"))

    assert days in overview
    assert f"{session_day}, {times} CET" in session
    assert f'aria-current="date"><span class="day-long">{day_link}</span>' in agenda
    assert '<time datetime="2017-11-07T14:00:00+01:00">14:00</time>' in agenda


def test_every_language_has_the_sites_own_date_formats():
    formats = {
        (language, name): get_format(name, lang=language)
        for language, _name in settings.LANGUAGES
        for name in CUSTOM_FORMATS
    }

    assert [key for key, value in formats.items() if value in CUSTOM_FORMATS] == []


def test_pages_answer_304_to_a_visitor_who_has_them(before_the_conference, client, conference, programme):
    url = f"/{conference.slug}/agenda/?day=2017-11-07"
    first = client.get(url)
    assert first["Cache-Control"] == "private, no-cache"

    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]

    BookingFactory(session=programme["digital"], registration__conference=conference)
    wait_for_seats_left()
    after_booking = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after_booking.status_code == 200
    assert "26 seats left" in text(after_booking)

    client.force_login(UserFactory())
    logged_in = client.get(url, HTTP_IF_NONE_MATCH=after_booking["ETag"])
    assert logged_in.status_code == 200
    assert "Log out" in logged_in.content.decode()
    # Their page carries their name and a CSRF token: never taken for another's.
    assert not logged_in.has_header("ETag")


def test_exports_answer_conditional_requests_until_an_edit(client, conference, programme):
    url = f"/{conference.slug}/schedule.json"
    first = client.get(url)
    assert first["Last-Modified"]
    assert first["Cache-Control"] == "no-cache"

    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304

    services.bump_content_version(conference.pk)
    conference.refresh_from_db()
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert json.loads(changed.content)["schedule"]["version"] == str(conference.content_version)


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
        }
    }
)
def test_pages_and_exports_work_without_redis(before_the_conference, client, conference, programme):
    assert "27 seats left" in text(client.get(f"/{conference.slug}/agenda/"))
    assert b"BEGIN:VEVENT" in client.get(f"/{conference.slug}/agenda.ics").content


# Queries: the same for one session as for many, cold and cached (none: the whole answer
# is kept, caching.CachedPageMiddleware)


PAGES = [
    ("/{slug}/", 3, 0),
    ("/{slug}/agenda/", 4, 0),
    # Cold, one more for the voting results the session page shows once revealed.
    ("/{slug}/agenda/s-first/", 5, 0),
    ("/{slug}/speakers/", 3, 0),
    ("/{slug}/speakers/spk-first/", 3, 0),
    ("/{slug}/agenda.ics", 3, 0),
    ("/{slug}/agenda.ics?kind=pre_event", 3, 0),
    ("/{slug}/agenda/s-first.ics", 3, 0),
    ("/{slug}/schedule.xml", 3, 0),
    ("/{slug}/schedule.json", 3, 0),
]


@pytest.mark.parametrize(("url", "cold", "cached"), PAGES)
def test_queries_are_the_same_for_one_session_and_many(
    before_the_conference, client, django_assert_num_queries, url, cold, cached
):
    for size in (1, 40):
        conference = ConferenceFactory(start_date=dt.date(2017, 11, 8), registration_opens=None)
        first, *_rest = build_programme(conference, size, rooms=10)
        first.code = "s-first"
        first.save()
        speaker = first.session_speakers.first().speaker
        speaker.code = "spk-first"
        speaker.save()
        address = url.format(slug=conference.slug)

        with django_assert_num_queries(cold):
            response = client.get(address)
        with django_assert_num_queries(cached):
            again = client.get(address)
        assert response.status_code == again.status_code == 200
        if response["Content-Type"].startswith("text/html"):
            assert main(again) == main(response)
        else:
            assert again.content == response.content
