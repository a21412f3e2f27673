"""Links to the pages of the apps built on the agenda (bilateral meetings), in the
conference's navigation, for logged-in visitors.

The agenda never imports those apps: each registers its link here in its
AppConfig.ready(), with the question whether a conference offers it now. Anonymous
visitors never get these links: their pages are kept whole and shared (agenda.caching),
and the link's page would only ask them to log in. The answers are kept in the cache per
conference for TIMEOUT seconds, so that a page costs no query for them but the first in
that time: a link appears or goes at most that late.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.urls import reverse
from django.utils.functional import Promise

from agenda.models import Conference

TIMEOUT = 60


@dataclass(frozen=True)
class Link:
    name: str
    label: str | Promise
    url_name: str
    # Whether the conference offers the page now: a query, answered once per TIMEOUT.
    offered: Callable[[Conference], bool]


_links: dict[str, Link] = {}


def register(name: str, *, label: str | Promise, url_name: str, offered: Callable[[Conference], bool]) -> None:
    """Show `label`, a link to `url_name` (which takes the conference's slug), to logged-in
    visitors of a conference for which `offered(conference)` holds."""
    _links[name] = Link(name, label, url_name, offered)


def links(conference: Conference) -> list[tuple[str, str]]:
    """The registered links the conference offers, as (label, address), in the active language."""
    key = f"conference-links:{conference.pk}"
    names = cache.get(key)
    if names is None:
        names = [link.name for link in _links.values() if link.offered(conference)]
        cache.set(key, names, TIMEOUT)
    return [
        (str(_links[name].label), reverse(_links[name].url_name, kwargs={"slug": conference.slug}))
        for name in names
        if name in _links
    ]
