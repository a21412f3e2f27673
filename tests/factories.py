import datetime as dt
import zoneinfo

import factory
from allauth.account.models import EmailAddress
from django.db.models import Max
from django.utils import timezone

from accounts.models import Team
from agenda.models import Conference, Room, Session, SessionSpeaker, Speaker, Track
from meetings.models import MeetingBlock, Profile
from meetings.services import set_up_block
from registration.models import Booking, Registration, User

# Every factory-made user's password.
PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    password = factory.django.Password(PASSWORD)


class EmailAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailAddress

    user = factory.SubFactory(UserFactory)
    email = factory.SelfAttribute("user.email")
    verified = True
    primary = True


class VerifiedUserFactory(UserFactory):
    """A user who has confirmed their email address, so allauth lets them log in."""

    class Meta:
        skip_postgeneration_save = True

    email_address = factory.RelatedFactory(EmailAddressFactory, factory_related_name="user")


class StaffFactory(VerifiedUserFactory):
    """Staff in a team that may see the registrations of every conference that exists when
    it is made; `can_export=True` also lets it export their attendee lists."""

    is_staff = True

    @factory.post_generation
    def can_export(self, create: bool, extracted: bool | None, **kwargs) -> None:
        if create:
            team = Team.objects.create(
                name=f"Staff {self.email}", can_view_registrations=True, can_export_attendees=bool(extracted)
            )
            team.conferences.set(Conference.objects.all())
            team.members.add(self)


class OrganiserFactory(VerifiedUserFactory):
    is_staff = True
    is_superuser = True


class TeamFactory(factory.django.DjangoModelFactory):
    """A team; `conferences=[...]` and `members=[...]` set who runs what, and each
    `can_...=True` a permission."""

    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def conferences(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.conferences.set(extracted)

    @factory.post_generation
    def members(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.members.set(extracted)


class ConferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conference

    name = factory.Sequence(lambda n: f"Cluster Conference {n}")
    slug = factory.Sequence(lambda n: f"cluster-{n}")
    venue = "Veles e Vents"
    city = "Valencia"
    timezone = "Europe/Madrid"
    start_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=60))
    end_date = factory.LazyAttribute(lambda o: o.start_date + dt.timedelta(days=1))
    capacity = 350
    is_published = True
    registration_opens = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    registration_closes = factory.LazyAttribute(
        lambda o: dt.datetime.combine(o.start_date, dt.time(0), tzinfo=zoneinfo.ZoneInfo(o.timezone))
    )
    privacy_statement = "We keep your details to run the conference."


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    conference = factory.SubFactory(ConferenceFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    capacity = 100
    position = factory.Sequence(int)


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    conference = factory.SubFactory(ConferenceFactory)
    name = factory.Sequence(lambda n: f"Track {n}")


class SpeakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Speaker

    conference = factory.SubFactory(ConferenceFactory)
    code = factory.Sequence(lambda n: f"spk{n}")
    name = factory.Sequence(lambda n: f"Speaker {n}")
    organisation = "European Commission"


def _session_start(session) -> dt.datetime:
    conference = session.conference
    return dt.datetime.combine(conference.start_date, dt.time(9), tzinfo=zoneinfo.ZoneInfo(conference.timezone))


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    conference = factory.SubFactory(ConferenceFactory)
    code = factory.Sequence(lambda n: f"s{n}")
    title = factory.Sequence(lambda n: f"Session {n}")
    kind = Session.Kind.PLENARY
    room = factory.SubFactory(RoomFactory, conference=factory.SelfAttribute("..conference"))
    start = factory.LazyAttribute(_session_start)
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=1))


class SessionSpeakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionSpeaker

    session = factory.SubFactory(SessionFactory)
    speaker = factory.SubFactory(SpeakerFactory, conference=factory.SelfAttribute("..session.conference"))


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    conference = factory.SubFactory(ConferenceFactory)
    user = factory.SubFactory(UserFactory)
    # The next number in the conference, as the registration service gives it.
    number = factory.LazyAttribute(
        lambda o: (Registration.objects.filter(conference=o.conference).aggregate(last=Max("number"))["last"] or 0) + 1
    )
    status = Registration.Status.CONFIRMED
    given_name = "Elźbieta"
    family_name = factory.Sequence(lambda n: f"Bieńkowska {n}")
    organisation = "Cluster Polska"
    organisation_type = Registration.OrganisationType.CLUSTER
    country = "PL"
    privacy_statement_agreed = factory.SelfAttribute("conference.privacy_statement")
    privacy_agreed_at = factory.LazyFunction(timezone.now)
    # Someone who agreed to photos and optional messages (without the Consent rows that
    # registering writes: tests of consent register through the service or the form).
    photo_opt_out = False
    essential_messages_only = False


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    registration = factory.SubFactory(RegistrationFactory)
    session = factory.SubFactory(
        SessionFactory, conference=factory.SelfAttribute("..registration.conference"), kind=Session.Kind.PRE_EVENT
    )
    status = Booking.Status.CONFIRMED


class PreEventFactory(SessionFactory):
    kind = Session.Kind.PRE_EVENT
    capacity = 10


def attendee_details(**overrides) -> dict:
    """What an attendee types into the registration form, as `services.register` takes it."""
    return {
        "given_name": "Elźbieta",
        "family_name": "Bieńkowska",
        "organisation": "Klaster Obróbki Metali",
        "organisation_type": Registration.OrganisationType.CLUSTER,
        "country": "PL",
        "job_title": "Cluster manager",
        "dietary_requirements": "",
        "accessibility_needs": "",
        "language": "en",
        **overrides,
    }


def _bilateral_session(block) -> Session:
    """17:00–18:30 on the first day of the block's conference, in its time zone."""
    conference = block.conference or ConferenceFactory(start_date=block.start_date)
    tz = zoneinfo.ZoneInfo(conference.timezone)
    return SessionFactory(
        conference=conference,
        kind=Session.Kind.BILATERAL,
        title="Bilateral meetings",
        start=dt.datetime.combine(conference.start_date, dt.time(17), tzinfo=tz),
        end=dt.datetime.combine(conference.start_date, dt.time(18, 30), tzinfo=tz),
    )


class MeetingBlockFactory(factory.django.DjangoModelFactory):
    """A block on a 17:00–18:30 bilateral-meetings session (`conference=...` chooses the
    conference), 20-minute slots, requests open now; its slots and tables are made as the
    admin makes them (meetings.services.set_up_block)."""

    class Meta:
        model = MeetingBlock
        exclude = ["start_date"]
        skip_postgeneration_save = True

    class Params:
        conference = None

    start_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=60))
    session = factory.LazyAttribute(_bilateral_session)
    slot_minutes = 20
    tables = 10
    max_meetings = 6
    max_open_requests = 20
    requests_open = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    requests_close = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))

    @factory.post_generation
    def set_up(self, create: bool, extracted, **kwargs) -> None:
        if create:
            set_up_block(self)


class ProfileFactory(factory.django.DjangoModelFactory):
    """An opted-in participant: a confirmed attendee with a profile
    (`registration__conference=...` chooses the conference)."""

    class Meta:
        model = Profile

    registration = factory.SubFactory(RegistrationFactory, user=factory.SubFactory(VerifiedUserFactory))
    conference = factory.SelfAttribute("registration.conference")
    opted_in = True
    opted_in_at = factory.LazyFunction(timezone.now)
    offer = "Laser cutting and additive manufacturing know-how"
    seek = "Partners for an Interreg Europe project"
    languages = "English, Polski"
