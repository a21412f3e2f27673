from django import template
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html

from agenda import caching, navigation
from agenda.models import Session, Track
from agenda.translation import shown_in_original

register = template.Library()


@register.simple_tag
def time_range(session: Session) -> str:
    """Start and end in the conference's time zone, in the reader's format, machine-readable
    too, with the zone named: 09:00–10:30 CET (the abbreviation spelled out on hover)."""
    tz = session.conference.tz
    start, end = session.start.astimezone(tz), session.end.astimezone(tz)
    end_text = date_format(end, "TIME_FORMAT")
    if end.date() != start.date():
        end_text = f"{date_format(end, 'MONTH_DAY_FORMAT')} {end_text}"
    return format_html(
        '<time datetime="{}">{}</time>–<time datetime="{}">{}</time> <abbr title="{}">{}</abbr>',
        start.isoformat(),
        date_format(start, "TIME_FORMAT"),
        end.isoformat(),
        end_text,
        session.conference.timezone,
        end.tzname(),
    )


@register.simple_tag(takes_context=True)
def conference_links(context, conference) -> list[dict]:
    """The links of the apps built on the agenda for a logged-in visitor (none for anyone
    else, whose page is shared), each marked current on its own pages."""
    request = context["request"]
    if not request.user.is_authenticated:
        return []
    return [
        {"label": label, "url": url, "current": request.path.startswith(url)}
        for label, url in navigation.links(conference)
    ]


@register.simple_tag
def seats(session: Session) -> str:
    return caching.seats_marker(session)


@register.simple_tag
def star(session: Session) -> str:
    return caching.star_marker(session)


@register.simple_tag
def swatch(track: Track) -> str:
    """The track's colour as a small square: an SVG fill, as a style attribute would break
    the Content-Security-Policy."""
    return format_html(
        '<svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false">'
        '<rect width="12" height="12" rx="2" fill="{}"/></svg>',
        track.colour,
    )


@register.simple_tag
def track_stripe(track: Track) -> str:
    """The track's colour as a bar down the left edge of a session's card, sized by CSS."""
    return format_html(
        '<svg class="track-stripe" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        '<rect width="1" height="1" fill="{}"/></svg>',
        track.colour,
    )


@register.simple_tag
def language_name(code: str) -> str:
    """The language's name in the reader's language; the code itself if Django does not know it."""
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


@register.simple_tag
def lang_attr(obj, field: str) -> str:
    """` lang="en"` for the element that shows `field` of `obj`, when the reader's language
    has no translation of it and the original is shown; nothing otherwise."""
    language = shown_in_original(obj, field)
    return format_html(' lang="{}"', language) if language else ""


@register.simple_tag
def lang_span(obj, field: str) -> str:
    """The text of `field` of `obj` within other text: in a span naming its language when
    it is the original, shown because the reader's language has no translation of it."""
    language, text = shown_in_original(obj, field), getattr(obj, field)
    return format_html('<span lang="{}">{}</span>', language, text) if language else conditional_escape(text)
