"""The conference's navigation leads logged-in visitors to the meetings pages while the
conference has meeting blocks to come; anonymous pages, kept whole and shared, never
carry the link, and a page costs no query more for it once the answer is cached."""

import datetime as dt

import pytest
from django.utils import timezone

from meetings.models import MeetingBlock
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

LINK = '<a href="/{slug}/meetings/"'


def agenda(client, conference) -> str:
    return client.get(f"/{conference.slug}/agenda/").content.decode()


def test_a_logged_in_visitor_finds_the_meetings_and_an_anonymous_one_does_not(client, conference, block):
    link = LINK.format(slug=conference.slug)
    assert link not in agenda(client, conference)  # kept whole for anonymous visitors

    client.force_login(VerifiedUserFactory())
    assert link in agenda(client, conference)
    assert f'{link} aria-current="page">Meetings</a>' in client.get(f"/{conference.slug}/meetings/").content.decode()

    client.logout()
    assert link not in agenda(client, conference)


@pytest.mark.parametrize(
    "change",
    [
        lambda block: MeetingBlock.objects.filter(pk=block.pk).update(is_cancelled=True),
        lambda block: type(block.session).objects.filter(pk=block.session_id).update(status="cancelled"),
        lambda block: (
            type(block.session)
            .objects.filter(pk=block.session_id)
            .update(start=timezone.now() - dt.timedelta(hours=3), end=timezone.now() - dt.timedelta(hours=2))
        ),
        lambda block: block.delete(),
    ],
    ids=["block cancelled", "session cancelled", "over", "no block"],
)
def test_no_link_without_meetings_to_come(client, conference, block, change):
    change(block)
    client.force_login(VerifiedUserFactory())

    assert LINK.format(slug=conference.slug) not in agenda(client, conference)


def test_the_link_costs_no_query_once_cached(client, conference, block, django_assert_num_queries):
    url = f"/{conference.slug}/agenda/"
    client.get(url)
    client.force_login(VerifiedUserFactory())
    client.get(url)  # the answer into the cache

    with django_assert_num_queries(1):  # the user, as on any page (tests/agenda/test_caching.py)
        markup = client.get(url).content.decode()

    assert LINK.format(slug=conference.slug) in markup
