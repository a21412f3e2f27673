"""The bilateral meetings of `manage.py seed_demo`: both GROW your REGIOn editions' "bilateral
meetings" sessions as meeting blocks, the organisers' sectors and themes, and a few
participants who opted in. Idempotent: a second run changes nothing."""

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agenda.models import Conference, Session
from meetings import services
from meetings.models import MeetingBlock, Profile, Sector, Theme
from registration.demo import record_consents
from registration.models import Registration, User
from registration.selectors import privacy_statement

SECTORS = ["Advanced manufacturing", "Agrifood", "Automotive", "Blue economy", "Digital industries", "Energy"]
THEMES = ["Industry 4.0", "Circular economy", "Interregional value chains", "Smart specialisation strategies"]
# (email, given name, family name, organisation, type, country, language, offer, seek, sectors)
PARTICIPANTS = [
    (
        "marc.lemaitre@example.eu",
        "Marc",
        "Lemaître",
        "Pôle Mécanique Hauts-de-France",
        "cluster",
        "FR",
        "fr",
        "A cluster of 120 mechanical engineering SMEs with shared test benches.",
        "Partners for a European Strategic Cluster Partnership on Industry 4.0.",
        ["Advanced manufacturing", "Automotive"],
    ),
    (
        "mario.buisan@example.es",
        "Mario",
        "Buisán",
        "Agència per a la Competitivitat de l'Empresa",
        "public_authority",
        "ES",
        "es",
        "Regional funding for interregional cluster projects in Catalonia.",
        "Clusters from other regions to join our smart specialisation platform.",
        ["Digital industries", "Energy"],
    ),
    (
        "elzbieta.bienkowska@example.pl",
        "Elżbieta",
        "Bieńkowska",
        "Klaster Obróbki Metali",
        "cluster",
        "PL",
        "en",
        "Metal processing know-how and 80 member SMEs ready to export.",
        "Automotive suppliers and research partners in southern Europe.",
        ["Advanced manufacturing"],
    ),
    (
        "marcella.puig@example.es",
        "Marcel·la",
        "Puig",
        "Clúster de l'Automoció de Catalunya",
        "cluster",
        "ES",
        "es",
        "Access to the Catalan automotive supply chain.",
        "Battery and lightweight-materials clusters for a joint Interreg Europe bid.",
        ["Automotive", "Energy"],
    ),
    (
        "soren.oberg@example.se",
        "Søren",
        "Öberg",
        "Blue Food Innovation AB",
        "sme",
        "SE",
        "en",
        "Aquaculture sensors tested in Nordic fish farms.",
        "Distributors and Blue Growth clusters around the Mediterranean.",
        ["Blue economy", "Agrifood"],
    ),
]


def seed_meetings(conferences: list[Conference]) -> list[MeetingBlock]:
    """Meeting blocks for the bilateral-meetings sessions of `conferences`, and the demo
    participants opted in to each; returns the blocks."""
    blocks = []
    with transaction.atomic():
        for conference in conferences:
            for name in SECTORS:
                Sector.objects.get_or_create(conference=conference, name=name)
            for name in THEMES:
                Theme.objects.get_or_create(conference=conference, name=name)
            for session in conference.sessions.filter(kind=Session.Kind.BILATERAL).order_by("start"):
                blocks.append(_block(session))
            for participant in PARTICIPANTS:
                _participant(conference, *participant)
    return blocks


def _block(session: Session) -> MeetingBlock:
    # Requests open three months before, and at the latest yesterday so that the upcoming
    # edition takes them today; they close the evening before the session.
    block, created = MeetingBlock.objects.get_or_create(
        session=session,
        defaults={
            "slot_minutes": 20,
            "tables": 30,
            "max_meetings": 4,
            "max_open_requests": 10,
            "requests_open": min(session.start - dt.timedelta(days=90), timezone.now() - dt.timedelta(days=1)),
            "requests_close": session.start - dt.timedelta(hours=12),
        },
    )
    if created:
        services.set_up_block(block)
    return block


def _participant(
    conference: Conference, email, given, family, organisation, kind, country, language, offer, seek, sectors
) -> Profile:
    # Directory entries to find and ask, not accounts to log in with.
    user, created = User.objects.get_or_create(email=email, defaults={"language": language})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    registration = Registration.objects.live().filter(conference=conference, user=user).first()
    if registration is None:
        now = timezone.now()
        number = (Registration.objects.filter(conference=conference).aggregate(last=Max("number"))["last"] or 0) + 1
        registration = Registration.objects.create(
            conference=conference,
            user=user,
            number=number,
            status=Registration.Status.CONFIRMED,
            given_name=given,
            family_name=family,
            organisation=organisation,
            organisation_type=kind,
            country=country,
            language=language,
            privacy_statement_agreed=privacy_statement(conference),
            privacy_agreed_at=now,
        )
        record_consents(registration)
    profile = Profile.objects.filter(registration=registration).first()
    if profile is None or not profile.opted_in:
        profile = services.save_profile(
            registration,
            offer=offer,
            seek=seek,
            languages={"fr": "Français, English", "es": "Español, Català, English"}.get(language, "English"),
            sectors=Sector.objects.filter(conference=conference, name__in=sectors),
            themes=Theme.objects.filter(conference=conference, name__in=THEMES[:2]),
        )
    return profile
