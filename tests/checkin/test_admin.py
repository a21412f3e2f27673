import pytest
from django.urls import reverse

from checkin.models import Ticket
from tests.factories import OrganiserFactory, RegistrationFactory

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
