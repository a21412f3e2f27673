from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Team
from accounts.teams import user_can
from agenda.models import Conference
from checkin.models import Ticket
from checkin.selectors import Door
from registration.models import Booking, Registration, User

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    models = [Team, Team.members.through, Team.conferences.through, User, Registration, Booking, Ticket]
    return {
        model.__name__: sorted(
            repr([(field.attname, getattr(obj, field.attname)) for field in model._meta.concrete_fields])
            for obj in model.objects.all()
        )
        for model in models
    }


def test_the_check_in_account_checks_people_in_at_the_upcoming_edition_only(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "Veles-e-Vents-2017")

    output = seed()

    account = User.objects.get(email="checkin@example.org")
    upcoming = Conference.objects.get(slug="growyourregion")
    past = Conference.objects.get(slug="growyourregion-2017")
    assert account.check_password("Veles-e-Vents-2017")
    assert (account.is_staff, account.is_superuser) == (False, False)
    assert user_can(account, upcoming, "can_check_in")
    assert not user_can(account, past, "can_check_in")
    assert not user_can(account, upcoming, "can_export_attendees")
    assert "checkin@example.org  password: Veles-e-Vents-2017" in output
    assert "/growyourregion/checkin/" in output


def test_a_demo_attendee_s_ticket_checks_in_at_the_door(client):
    seed()
    upcoming = Conference.objects.get(slug="growyourregion")
    tickets = Ticket.objects.filter(registration__conference=upcoming).select_related("registration")
    door = Door(upcoming.start_date)
    client.force_login(User.objects.get(email="checkin@example.org"))

    response = client.post(
        reverse("checkin:desk", kwargs={"slug": upcoming.slug, "door": door.key}),
        {"token": tickets.get(registration__given_name="Σταύρος").token},
    )

    assert len(tickets) == 5
    assert {ticket.registration.status for ticket in tickets} == {Registration.Status.CONFIRMED}
    assert response.status_code == 200
    assert "Σταύρος Παπαδόπουλος" in response.content.decode()
    assert Booking.objects.filter(registration__in=[t.registration for t in tickets], status="confirmed").count() == 1


def test_seeding_twice_changes_nothing(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    seed()
    first = snapshot()

    seed()

    assert snapshot() == first
