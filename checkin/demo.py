"""The demo's door: a check-in team for the upcoming edition, with `checkin@example.org` as
its member, and a few confirmed attendees with tickets to find or scan. Idempotent, like the
rest of seed_demo; the account itself is made with the other demo accounts
(registration.demo), so that it gets their password."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Team
from agenda.demo import UPCOMING_SLUG, sync
from agenda.models import Conference, Session
from checkin import services
from registration.demo import CHECKIN_EMAIL, record_consents
from registration.models import Booking, Registration, User
from registration.selectors import privacy_statement

TEAM_NAME = "Check-in desk"
# Names in several scripts and with the marks badges must print right; one books the first
# pre-event so that its door list has someone, one has needs the door shows.
ATTENDEES = [
    {
        "email": "elzbieta@example.org",
        "given_name": "Elżbieta",
        "family_name": "Wiśniewska",
        "organisation": "Klaster Lubuskie",
        "country": "PL",
        "pre_event": True,
    },
    {
        "email": "marcella@example.org",
        "given_name": "Marcel·la",
        "family_name": "Puigdomènech",
        "organisation": "Clúster Alimentari de Catalunya",
        "country": "ES",
        "dietary_requirements": "Vegetarian",
    },
    {
        "email": "stavros@example.org",
        "given_name": "Σταύρος",
        "family_name": "Παπαδόπουλος",
        "organisation": "Corallia Clusters Initiative",
        "country": "GR",
        "accessibility_needs": "Step-free access",
    },
    {
        "email": "jurgen@example.org",
        "given_name": "Jürgen",
        "family_name": "Öberg",
        "organisation": "Cluster Nordwest",
        "country": "DE",
        "photo_opt_out": True,
    },
    {
        "email": "siobhan@example.org",
        "given_name": "Siobhán",
        "family_name": "Ó Briain",
        "organisation": "Enterprise Cluster Ireland",
        "country": "IE",
    },
]
DETAILS = ("given_name", "family_name", "organisation", "country", "dietary_requirements", "accessibility_needs")


def seed_checkin() -> tuple[Team, list[Registration]]:
    """Create or update the check-in team and the demo attendees with their tickets."""
    with transaction.atomic():
        conference = Conference.objects.select_for_update().get(slug=UPCOMING_SLUG)
        team, _changed = sync(Team, lookup={"name": TEAM_NAME}, values={"can_check_in": True})
        team.conferences.add(conference)
        team.members.add(User.objects.get(email=CHECKIN_EMAIL))
        pre_event = Session.objects.with_sign_up().filter(conference=conference).order_by("start", "pk").first()
        registrations = [_attendee(conference, spec, pre_event) for spec in ATTENDEES]
        services.ensure_tickets(registrations)
    return team, registrations


def _attendee(conference: Conference, spec: dict, pre_event: Session | None) -> Registration:
    user, _created = User.objects.get_or_create(email=spec["email"], defaults={"password": "!"})
    values = {
        "status": Registration.Status.CONFIRMED,
        "organisation_type": Registration.OrganisationType.CLUSTER,
        "job_title": "Cluster manager",
        "photo_opt_out": spec.get("photo_opt_out", False),
        "essential_messages_only": True,
        **{field: spec.get(field, "") for field in DETAILS},
    }
    registration = Registration.objects.filter(conference=conference, user=user).order_by("-number").first()
    if registration is None:
        now = timezone.now()
        last = conference.registrations.aggregate(last=Max("number"))["last"] or 0
        registration = Registration.objects.create(
            conference=conference,
            user=user,
            number=last + 1,
            privacy_statement_agreed=privacy_statement(conference),
            privacy_agreed_at=now,
            **values,
        )
    else:
        registration, _changed = sync(Registration, lookup={"pk": registration.pk}, values=values)
    record_consents(registration)
    if spec.get("pre_event") and pre_event is not None:
        sync(
            Booking,
            lookup={"registration": registration, "session": pre_event},
            values={"status": Booking.Status.CONFIRMED},
        )
    return registration
