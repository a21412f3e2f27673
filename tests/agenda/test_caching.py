"""Whole public pages from the cache (caching.CachedPageMiddleware): what a hit costs, what
it carries, and when it must not be served."""

import datetime as dt
import io
import shutil
import sys
import time

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client
from django.utils import timezone

from agenda import caching, services
from agenda.models import Session
from tests.agenda.conftest import local, main, text
from tests.factories import BookingFactory, ConferenceFactory, SessionFactory, SpeakerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pre_event(conference):
    session = SessionFactory(
        conference=conference,
        code="pre-digital",
        title="Digital clusters",
        kind=Session.Kind.PRE_EVENT,
        capacity=30,
        start=local(conference, -1, 14),
        end=local(conference, -1, 17),
    )
    BookingFactory(session=session, registration__conference=conference)
    return session


def test_a_hit_is_the_same_page_with_the_same_headers_and_no_query(
    before_the_conference, client, conference, pre_event, django_assert_num_queries
):
    url = f"/{conference.slug}/agenda/pre-digital/"
    first = client.get(url)

    with django_assert_num_queries(0):
        hit = client.get(url)

    assert hit.content == first.content
    assert "29 seats left" in text(hit)
    for header in ("Content-Type", "ETag", "Cache-Control", "Vary", "Content-Language"):
        assert hit[header] == first[header]
    assert hit["Vary"] == "Accept-Language, Cookie"
    # The security headers are added around the cache, to hits too.
    assert "default-src 'self'" in hit["Content-Security-Policy"]
    assert hit["X-Frame-Options"] == "DENY"
    assert hit["Permissions-Policy"].startswith("camera=()")
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_an_anonymous_page_carries_no_csrf_token_and_sets_no_cookie(client, conference, pre_event):
    response = client.get(f"/{conference.slug}/agenda/?day=2017-11-07")
    markup = response.content.decode()

    assert "csrfmiddlewaretoken" not in markup
    assert not response.cookies
    # The language switch: a GET to this very address, which keeps its parameters.
    assert '<form class="language-switcher" method="get">' in markup
    assert '<input name="day" type="hidden" value="2017-11-07">' in markup
    assert '<select id="language-select" name="lang">' in markup


def test_a_logged_in_visitor_costs_one_query_and_keeps_the_post_switch(
    before_the_conference, client, conference, pre_event, django_assert_num_queries
):
    url = f"/{conference.slug}/agenda/pre-digital/"
    client.get(url)  # the programme, conference and seats into the cache
    client.force_login(UserFactory())
    client.get(url)  # the session and their stars into the cache

    with django_assert_num_queries(1):  # the user
        response = client.get(url)

    markup = response.content.decode()
    assert "Log out" in markup
    assert "29 seats left" in text(response)
    assert 'name="csrfmiddlewaretoken"' in markup
    assert '<select id="language-select" name="language">' in markup
    # Nor is their page kept for others.
    client.logout()
    assert "Log out" not in client.get(url).content.decode()


def test_each_language_has_its_own_page(client, conference, pre_event):
    url = f"/{conference.slug}/agenda/?day=2017-11-07"
    english = text(client.get(url))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    german = text(client.get(url))
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    spanish = text(client.get(url, HTTP_ACCEPT_LANGUAGE="es"))

    assert "Tuesday" in english
    assert "Dienstag" in german
    assert "martes" in spanish
    assert "Tuesday" in text(client.get(url))


def test_seats_left_show_a_booking_within_a_second(before_the_conference, client, conference, pre_event):
    url = f"/{conference.slug}/agenda/pre-digital/"
    assert "29 seats left" in text(client.get(url))

    BookingFactory(session=pre_event, registration__conference=conference)
    time.sleep(caching.SEATS_LAG + 0.1)

    assert "28 seats left" in text(client.get(url))


def test_an_edit_to_the_conference_shows_at_once(client, conference, pre_event):
    client.get(f"/{conference.slug}/")
    conference.name = "GROW your REGIOn, the sequel"
    services.save_conference(conference)

    assert "GROW your REGIOn, the sequel" in text(client.get(f"/{conference.slug}/"))


def test_a_new_short_name_moves_the_conference_at_once(client, conference, pre_event):
    old = conference.slug
    assert client.get(f"/{old}/").status_code == 200
    conference.slug = "grow-renamed"
    services.save_conference(conference)

    assert client.get(f"/{old}/").status_code == 404
    assert client.get(f"/{old}/agenda/pre-digital/").status_code == 404
    assert "Digital clusters" in text(client.get("/grow-renamed/agenda/pre-digital/"))


def test_unpublishing_takes_the_pages_down_at_once(client, conference, pre_event):
    url = f"/{conference.slug}/agenda/pre-digital/"
    client.get(url)
    conference.is_published = False
    services.save_conference(conference)

    assert client.get(url).status_code == 404
    assert client.get(f"/{conference.slug}/schedule.json").status_code == 404


def test_an_unknown_conference_is_a_404_without_a_query_the_second_time(client, django_assert_num_queries):
    client.get("/no-such-conference/agenda/")
    with django_assert_num_queries(0):
        assert client.get("/no-such-conference/agenda/").status_code == 404


def test_a_new_conference_under_a_cached_404_appears_at_once(client):
    assert client.get("/cluster-new/").status_code == 404
    services.save_conference(ConferenceFactory.build(slug="cluster-new"))

    assert client.get("/cluster-new/").status_code == 200


def test_the_conference_page_follows_the_opening_of_registration(client):
    opens = timezone.now() + dt.timedelta(seconds=1)
    conference = ConferenceFactory(start_date=dt.date(2099, 3, 1), registration_opens=opens)
    url = f"/{conference.slug}/"
    assert "Registration opens on" in text(client.get(url))

    time.sleep(max((opens - timezone.now()).total_seconds(), 0) + 0.1)

    assert f'href="/{conference.slug}/register/"' in main(client.get(url))


def test_a_message_or_a_session_gets_the_page_rendered_for_it(client, conference, pre_event):
    url = f"/{conference.slug}/agenda/pre-digital/"
    client.get(url)
    client.cookies["messages"] = "not a valid signed message"

    response = client.get(url)

    assert response.status_code == 200
    assert "Digital clusters" in text(response)


def test_other_spellings_of_a_url_are_answered_but_not_kept(client, conference, pre_event, django_assert_num_queries):
    url = f"/{conference.slug}/speakers/?utm_source=newsletter"
    client.get(url)

    with django_assert_num_queries(0):  # still from the conference and fragment caches
        response = client.get(url)

    assert response.status_code == 200
    assert "Speakers" in text(response)


def test_exports_are_kept_whole_for_logged_in_visitors_too(client, conference, pre_event, django_assert_num_queries):
    url = f"/{conference.slug}/schedule.json"
    first = client.get(url)
    client.force_login(UserFactory())

    with django_assert_num_queries(0):
        again = client.get(url)

    assert again.content == first.content
    assert again["Last-Modified"] == first["Last-Modified"]
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


def test_a_page_that_carries_a_csrf_token_is_never_kept(rf, conference):
    """Were a public page ever to render a form with a token, it would be this visitor's."""

    def view_with_a_form(request):
        response = HttpResponse(f'<input name="csrfmiddlewaretoken" value="{get_token(request)}">')
        response.public = caching.Public(version=caching._version(conference), etag='"x"')
        return response

    caching.published_conference(conference.slug)  # the conference into the cache, as a view puts it
    middleware = caching.CachedPageMiddleware(view_with_a_form)
    first = middleware(rf.get(f"/{conference.slug}/form/"))
    second = middleware(rf.get(f"/{conference.slug}/form/"))

    assert first.content != second.content


def test_a_worker_keeps_answers_in_memory_up_to_a_bound():
    recent = caching.Recent()
    public = caching.Public(version="v", etag='"e"')
    half = caching.CachedResponse(public, b"x" * (caching.LOCAL_BYTES // 2 + 1), ())

    recent.put("first", half)
    recent.put("first", half)  # the same answer again takes no more room
    assert recent.get("first") is half
    recent.put("second", half)

    assert recent.get("first") is None
    assert recent.get("second") is half
    assert recent.size == len(half.content)


def test_the_release_digest_covers_every_template_and_template_tag_a_cached_page_renders():
    sources = {path.relative_to(settings.BASE_DIR).as_posix() for path in caching._sources()}

    assert {
        "templates/base.html",
        "templates/agenda/session_detail.html",
        "templates/voting/includes/session_voting.html",
        "voting/templatetags/voting.py",
        "agenda/templatetags/agenda.py",
    } <= sources


def test_a_changed_voting_include_changes_the_release(settings, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(settings.BASE_DIR / "templates", templates)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [templates]}]
    before = caching._release()

    include = templates / "voting" / "includes" / "session_voting.html"
    include.write_text(include.read_text() + "\n{# another look #}\n")

    assert caching._release() != before


# The WSGI front (caching.serve_recent): what a worker has just served, before Django.


def wsgi_get(path: str, extra: dict | None = None, **headers: str) -> tuple[str, dict[str, str], bytes, int]:
    """A GET through the site's WSGI application, as gunicorn makes it (`extra` added to its
    environ): (status, headers, body, how many times Django's request handling started)."""
    from conference.wsgi import application

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
        **(extra or {}),
    }
    started: list[tuple[str, list]] = []
    handled = []

    def count(**kwargs):
        handled.append(kwargs)

    # As Django's test client does: the test's transaction is on the connection that
    # Django's handler would otherwise close when a request starts and ends.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.connect(count)
    try:
        result = application(environ, lambda status, headers: started.append((status, headers)))
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
    finally:
        request_started.disconnect(count)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status, header_list = started[0]
    return status, dict(header_list), body, len(handled)


@pytest.mark.parametrize(
    "path",
    [
        "/{slug}/",
        "/{slug}/agenda/",
        "/{slug}/agenda/pre-digital/",
        "/{slug}/speakers/",
        "/{slug}/speakers/{speaker}/",
        "/{slug}/schedule.json",
        "/{slug}/schedule.xml",
        "/{slug}/agenda.ics",
    ],
)
def test_the_front_gives_a_page_just_served_again_without_django_or_a_query(
    conference, pre_event, path, django_assert_num_queries
):
    speaker = SpeakerFactory(conference=conference)
    pre_event.session_speakers.create(speaker=speaker, position=0)
    url = path.format(slug=conference.slug, speaker=speaker.code)
    first_status, first_headers, first_body, _handled = wsgi_get(url)

    with django_assert_num_queries(0):
        status, headers, body, handled = wsgi_get(url)

    assert handled == 0
    assert (status, headers, body) == (first_status, first_headers, first_body)
    assert status == "200 OK"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_the_front_leaves_validators_sessions_and_strange_hosts_to_django(conference, pre_event):
    url = f"/{conference.slug}/agenda/pre-digital/"
    _status, headers, _body, _handled = wsgi_get(url)

    status, _headers, body, handled = wsgi_get(url, if_none_match=headers["ETag"])
    assert (status, body, handled) == ("304 Not Modified", b"", 1)

    client = Client()
    client.force_login(UserFactory())
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    status, _headers, body, handled = wsgi_get(url, cookie=cookie)
    assert (status, handled) == ("200 OK", 1)
    assert b"Log out" in body

    status, _headers, _body, handled = wsgi_get(url, host="elsewhere.example")
    assert (status, handled) == ("400 Bad Request", 1)

    status, _headers, _body, handled = wsgi_get(url, {"CONTENT_LENGTH": str(settings.REQUEST_BODY_MAX_SIZE + 1)})
    assert (status, handled) == ("413 Request Entity Too Large", 1)


def test_the_front_forgets_a_page_after_a_moment(before_the_conference, conference, pre_event):
    url = f"/{conference.slug}/agenda/pre-digital/"
    wsgi_get(url)
    BookingFactory(session=pre_event, registration__conference=conference)
    time.sleep(caching.SEATS_LAG + 0.1)

    _status, _headers, body, handled = wsgi_get(url)

    assert handled == 1
    assert b"28 seats left" in body
