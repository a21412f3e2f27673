import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from agenda import demo as agenda_demo
from agenda.models import Conference, Session
from registration import services
from registration.models import Registration, User
from registration.selectors import privacy_statement
from tests.factories import StaffFactory, VerifiedUserFactory, attendee_details


@dataclass(frozen=True)
class Demo:
    """The upcoming GROW your REGIOn of the demo, full, with the people its pages are for:
    a confirmed attendee who took the last seat of a pre-event, one on the waiting list,
    a newcomer who has not registered yet and staff who may export."""

    conference: Conference
    pre_event_day: dt.date
    confirmed: User
    waitlisted: User
    newcomer: User
    staff: User


def register(user: User, conference: Conference, *codes: str, **details) -> Registration:
    sessions = Session.objects.filter(conference=conference, code__in=codes)
    return services.register(
        user,
        conference,
        details=attendee_details(**details),
        session_ids=[session.pk for session in sessions],
        privacy_statement=privacy_statement(conference),
    )


@pytest.fixture
def demo(transactional_db) -> Demo:
    _past, conference = agenda_demo.seed_growyourregion(today=timezone.localdate())
    # The smallest pre-event has one seat left, and the conference one place.
    Session.objects.filter(conference=conference, code="pre-interreg").update(capacity=1)
    Conference.objects.filter(pk=conference.pk).update(capacity=1)
    confirmed = VerifiedUserFactory(email="ela.bienkowska@example.eu")
    register(confirmed, conference, "pre-interreg")
    waitlisted = VerifiedUserFactory(email="soren.oberg@example.se")
    register(waitlisted, conference, "pre-interreg", given_name="Søren", family_name="Öberg", country="SE")
    conference.refresh_from_db()
    return Demo(
        conference=conference,
        pre_event_day=conference.start_date - dt.timedelta(days=1),
        confirmed=confirmed,
        waitlisted=waitlisted,
        newcomer=VerifiedUserFactory(email="inaki.garcia@example.es"),
        staff=StaffFactory(email="staff@example.org", can_export=True),
    )
