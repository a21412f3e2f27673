"""My programme: the page of one's own programme of a conference, and its private calendar
feed, which calendar apps fetch with the secret token alone (they cannot log in)."""

import datetime
import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agenda import caching
from agenda.calendar import build_calendar
from agenda.models import Conference
from registration import programme
from registration.models import ProgrammeFeed

# How often subscribed calendar apps are asked to look for changes: as the public feed.
CALENDAR_REFRESH = datetime.timedelta(hours=1)


@login_required
@require_safe
def my_programme(request: HttpRequest, slug: str) -> HttpResponse:
    conference = caching.published_conference(slug)
    mine = programme.load_programme(request.user, conference)
    feed = programme.programme_feed(request.user, conference)
    feed_url = settings.SITE_URL + feed.get_absolute_url()
    context = {
        "conference": conference,
        "days": mine.days(conference.tz),
        "feed_url": feed_url,
        # webcal:// makes the browser hand the address to the calendar app, which subscribes.
        "webcal_url": "webcal://" + feed_url.split("://", 1)[-1],
    }
    return render(request, "registration/my_programme.html", context)


@login_required
def renew_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """A new secret address for the calendar feed; the old one stops working."""
    conference = caching.published_conference(slug)
    if request.method == "POST":
        programme.renew_programme_feed(request.user, conference)
        messages.success(
            request,
            _("Your calendar has a new address. The old one no longer works: subscribe again with the new one."),
        )
    return redirect("registration:my_programme", slug=conference.slug)


@require_safe
def my_programme_feed(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Everything on the person's programme as iCalendar, in their language, with the
    public feed's UIDs. Answered 304 while nothing on it changed (ETag over what it shows,
    Last-Modified its latest change); built once per change, from the cache."""
    feed = get_object_or_404(
        ProgrammeFeed.objects.select_related("user", "conference").filter(
            conference__in=Conference.objects.published()
        ),
        token=token,
        conference__slug=slug,
    )
    conference, user = feed.conference, feed.user
    with translation.override(user.language):
        mine = programme.load_programme(user, conference)
        state = (
            conference.guid,
            conference.content_version,
            caching.RELEASE,
            user.language,
            [(session.pk, session.sequence, session.updated_at) for session in mine.sessions],
            mine.entries,
        )
        etag = quote_etag(hashlib.sha256(repr(state).encode()).hexdigest()[:32])
        changes = [conference.updated_at, feed.created_at]
        changes += [session.updated_at for session in mine.sessions] + [entry.updated_at for entry in mine.entries]
        last_modified = int(max(changes).timestamp())
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            name = _("%(conference)s: my programme") % {"conference": conference.name}

            def build() -> bytes:
                return build_calendar(
                    conference, mine.sessions, name=name, refresh_interval=CALENDAR_REFRESH, entries=mine.entries
                )

            body = cache.get_or_set(f"my-programme:{etag}", build, caching.TIMEOUT)
            response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    # Calendar apps poll: they revalidate every time, and mostly get a 304. The address is
    # the key, so no shared cache keeps it.
    patch_cache_control(response, private=True, no_cache=True)
    return response
