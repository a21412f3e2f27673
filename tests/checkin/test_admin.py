import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import translation

from checkin.models import BadgePrint, BadgeRun, Ticket
from tests.factories import ConferenceFactory, OrganiserFactory, RegistrationFactory

pytestmark = pytest.mark.django_db


def test_an_organiser_gives_a_speaker_their_badge_role_before_the_ticket_exists(client):
    registration = RegistrationFactory()
    client.force_login(OrganiserFactory())

    response = client.post(
        reverse("admin:checkin_ticket_add"), {"registration": registration.pk, "role": Ticket.Role.SPEAKER}
    )
    changelist = client.get(reverse("admin:checkin_ticket_changelist"))

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (ticket.registration, ticket.role) == (registration, Ticket.Role.SPEAKER)
    assert len(ticket.token) == 32
    assert ticket.token not in changelist.content.decode()
    assert registration.full_name in changelist.content.decode()


def test_the_check_ins_are_a_record_nobody_edits_in_the_admin(client):
    client.force_login(OrganiserFactory())

    assert client.get(reverse("admin:checkin_checkin_add")).status_code == 403
    assert client.get(reverse("admin:checkin_checkin_changelist")).status_code == 200


# 23:30 in London, 00:30 the next day in Madrid.
LATE = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)


def test_a_badge_print_is_named_by_its_time_in_the_conference_zone(client):
    printed = BadgePrint.objects.create(
        conference=ConferenceFactory(name="GROW your REGIOn", timezone="Europe/Madrid"), printed_at=LATE, badges=300
    )
    client.force_login(OrganiserFactory())

    page = client.get(reverse("admin:checkin_badgeprint_change", args=[printed.pk])).content.decode()

    assert str(printed) == "GROW your REGIOn, printed on 6 December 2026, 00:30 (Europe/Madrid)"
    assert html.escape(str(printed)) in page


def test_a_badge_run_is_named_by_its_time_in_the_conference_zone():
    run = BadgeRun.objects.create(
        conference=ConferenceFactory(name="GROW your REGIOn", timezone="Europe/Madrid"),
        layout="a6",
        part_size=100,
        created_at=LATE,
    )

    assert str(run) == "GROW your REGIOn, asked for on 6 December 2026, 00:30 (Europe/Madrid)"
    with translation.override("es"):
        assert str(run) == "GROW your REGIOn, solicitud del 6 de diciembre de 2026 a las 00:30 (Europe/Madrid)"
