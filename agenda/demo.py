"""The demo programmes of `manage.py seed_demo`.

GROW your REGIOn 2017 (Valencia, the programme in the seeds), its upcoming edition on the
same shape, and the synthetic `bench` conference that benchmarks run against. Only the
agenda lives here; accounts and attendees are seeded by registration.
"""

import datetime as dt
import itertools
import math
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.utils import translation

from agenda import caching, services
from agenda.models import Conference, Room, Session, SessionSpeaker, Speaker, Track

PAST_SLUG = "growyourregion-2017"
UPCOMING_SLUG = "growyourregion"
BENCH_SLUG = "bench"
TIMEZONE = "Europe/Madrid"

PRIVACY_STATEMENT = (
    "The organisers keep the details you give to run the conference: badges, the attendee list, "
    "seats at pre-events and the messages about your registration. Staff of the organisers see them; "
    "nobody else does. Write to the contact address "
    "to see, correct or delete them earlier."
)

DESCRIPTION = (
    "GROW your REGIOn brings together regional and national policy makers, cluster managers, "
    "SME intermediaries and industry from across Europe to boost smart interregional collaboration "
    "through clusters. Two days of keynotes, interactive group discussions, smart voting and "
    "bilateral meetings, preceded by five parallel pre-events, co-create the next generation of "
    "joint cluster initiatives. Organised by the European Commission's Directorates-General for "
    "Internal Market, Industry, Entrepreneurship and SMEs (DG GROW) and for Regional and Urban "
    "Policy (DG REGIO) with the Generalitat Valenciana."
)

# (name, places), in the order the agenda shows them side by side.
ROOMS = [
    ("Auditorium", 350),
    ("Sala Mediterrània", 80),
    ("Sala Albufera", 60),
    ("Sala Túria", 60),
    ("Sala Malva-rosa", 45),
    ("Sala del Port", 40),
]

# (name, colour): colours dark enough for white text (contrast AA).
TRACKS = [
    ("Policy", "#1d4ed8"),
    ("Pre-events", "#7c2d92"),
    ("Co-creation", "#a3410f"),
    ("Partnering", "#166534"),
]

# Rooms, tracks and session titles in the other languages, by their original (English)
# text; proper names such as "Sala Albufera" stay as they are.
TRANSLATIONS = {
    "Auditorium": {"es": "Auditorio", "fr": "Auditorium", "de": "Auditorium"},
    "Policy": {"es": "Políticas", "fr": "Politiques", "de": "Politik"},
    "Pre-events": {"es": "Actividades previas", "fr": "Pré-événements", "de": "Vorveranstaltungen"},
    "Co-creation": {"es": "Cocreación", "fr": "Co-création", "de": "Ko-Kreation"},
    "Partnering": {"es": "Búsqueda de socios", "fr": "Partenariats", "de": "Partnersuche"},
    "Registration and welcome coffee": {
        "es": "Acreditación y café de bienvenida",
        "fr": "Accueil des participants et café de bienvenue",
        "de": "Registrierung und Begrüßungskaffee",
    },
    "Coffee break": {"es": "Pausa para el café", "fr": "Pause café", "de": "Kaffeepause"},
    "Lunch": {"es": "Almuerzo", "fr": "Déjeuner", "de": "Mittagessen"},
    "Welcome reception in the Valencia harbour": {
        "es": "Recepción de bienvenida en el puerto de Valencia",
        "fr": "Réception de bienvenue sur le port de Valence",
        "de": "Begrüßungsempfang im Hafen von Valencia",
    },
    "Networking dinner": {"es": "Cena de networking", "fr": "Dîner de networking", "de": "Networking-Abendessen"},
    "Networking lunch": {
        "es": "Almuerzo de networking",
        "fr": "Déjeuner de networking",
        "de": "Networking-Mittagessen",
    },
    "Bilateral meetings": {"es": "Reuniones bilaterales", "fr": "Rencontres bilatérales", "de": "Bilaterale Treffen"},
    "Investing in a smart, innovative and sustainable industry: a renewed EU industrial policy strategy": {
        "es": "Invertir en una industria inteligente, innovadora y sostenible: una estrategia renovada de "
        "política industrial de la UE",
    },
    "Strengthening innovation in Europe's regions: strategies for resilient, inclusive and sustainable growth": {
        "es": "Reforzar la innovación en las regiones de Europa: estrategias para un crecimiento resiliente, "
        "inclusivo y sostenible",
    },
}


def translations(field: str, original: str) -> dict[str, str | None]:
    """`field`'s columns of the other languages for the text `original`: None where it has none."""
    given = TRANSLATIONS.get(original, {})
    return {
        f"{field}_{language}": given.get(language)
        for language, _name in settings.LANGUAGES
        if language != settings.LANGUAGE_CODE
    }


SPEAKERS = {
    "ximo-puig": {
        "name": "Ximo Puig",
        "title": "President of the Valencia Regional Government",
        "organisation": "Generalitat Valenciana",
        "country": "ES",
    },
    "antti-peltomaki": {
        "name": "Antti Peltomäki",
        "title": "Deputy Director-General, DG GROW",
        "organisation": "European Commission, DG Internal Market, Industry, Entrepreneurship and SMEs",
        "country": "",
    },
    "peter-berkowitz": {
        "name": "Peter Berkowitz",
        "title": "Head of Unit, Smart and Sustainable Growth, DG REGIO",
        "organisation": "European Commission, DG Regional and Urban Policy",
        "country": "",
    },
    "ulla-engelmann": {
        "name": "Ulla Engelmann",
        "title": "Head of Unit, Clusters, Social Economy and Entrepreneurship, DG GROW",
        "organisation": "European Commission, DG Internal Market, Industry, Entrepreneurship and SMEs",
        "country": "",
    },
    "mario-buisan": {
        "name": "Mario Buisán",
        "title": "Director-General for Industry and SMEs",
        "organisation": "Ministry of Economy, Industry and Competitiveness",
        "country": "ES",
    },
}


@dataclass(frozen=True)
class Slot:
    """One session of the GROW your REGIOn programme; `day` counts from the conference's first day."""

    code: str
    day: int
    start: str
    end: str
    kind: str
    title: str
    abstract: str = ""
    room: str | None = "Auditorium"
    track: str | None = "Policy"
    speakers: tuple[str, ...] = ()
    seats: int | None = None


K = Session.Kind
PARALLEL_PRE_EVENT = {"day": -1, "start": "14:00", "end": "17:30", "kind": K.PRE_EVENT, "track": "Pre-events"}

PROGRAMME = [
    # The eve of the conference: five parallel pre-events.
    Slot(
        "pre-value-chains",
        title="Cross-sectoral value chains: connecting specialised ecosystems",
        abstract="How cluster-facilitated projects under Horizon 2020 build new industrial value chains across "
        "sectors and regions, with cases from advanced manufacturing, agrifood and the creative industries.",
        room="Sala Mediterrània",
        seats=70,
        **PARALLEL_PRE_EVENT,
    ),
    Slot(
        "pre-partnerships",
        title="European Strategic Cluster Partnerships: going international together",
        abstract="Cluster organisations that joined forces under COSME share how they prepared a joint "
        "internationalisation strategy, found partners beyond Europe and kept the partnership going.",
        room="Sala Albufera",
        seats=55,
        **PARALLEL_PRE_EVENT,
    ),
    Slot(
        "pre-s3-modernisation",
        title="Smart specialisation in practice: the industrial modernisation partnerships",
        abstract="Regions in the thematic Smart Specialisation Platform on Industrial Modernisation show how "
        "they match their priorities, pool investment and turn interregional partnerships into projects.",
        room="Sala Túria",
        seats=55,
        **PARALLEL_PRE_EVENT,
    ),
    Slot(
        "pre-sme-scale-up",
        title="Scaling up SMEs through clusters and intermediaries",
        abstract="Channelling support to groups of SMEs: business development, skills, digital and "
        "resource efficiency, with the Enterprise Europe Network and the Start-up and Scale-up Initiative.",
        room="Sala Malva-rosa",
        seats=40,
        **PARALLEL_PRE_EVENT,
    ),
    Slot(
        "pre-interreg",
        title="Interreg Europe: learning from cluster policy across regions",
        abstract="Managing authorities and cluster managers compare what worked in interregional cluster "
        "projects and how the Policy Learning Platform helps regions learn from one another.",
        room="Sala del Port",
        seats=35,
        **PARALLEL_PRE_EVENT,
    ),
    Slot(
        "welcome-reception",
        day=0,
        start="18:45",
        end="19:45",
        kind=K.NETWORKING,
        title="Welcome reception in the Valencia harbour",
        abstract="Meet the other participants over drinks on the terrace of Veles e Vents.",
        room=None,
        track="Partnering",
    ),
    # Day one.
    Slot(
        "welcome-coffee",
        day=0,
        start="08:30",
        end="09:30",
        kind=K.BREAK,
        title="Registration and welcome coffee",
        room=None,
        track=None,
    ),
    Slot(
        "opening",
        day=0,
        start="09:30",
        end="09:50",
        kind=K.PLENARY,
        title="Opening of the conference",
        abstract="Welcome to Valencia on behalf of the Generalitat Valenciana, one of the three co-organisers.",
        speakers=("ximo-puig",),
    ),
    Slot(
        "keynote-grow",
        day=0,
        start="09:50",
        end="10:15",
        kind=K.KEYNOTE,
        title="Investing in a smart, innovative and sustainable industry: a renewed EU industrial policy strategy",
        abstract="Europe needs a real push for cross-fertilisation across regional and sectoral silos: "
        "bottom-up commitments, industry engagement and regional efforts to become real European "
        "strategic partnerships.",
        speakers=("antti-peltomaki",),
    ),
    Slot(
        "keynote-regio",
        day=0,
        start="10:15",
        end="10:40",
        kind=K.KEYNOTE,
        title="Strengthening innovation in Europe's regions: strategies for resilient, inclusive and "
        "sustainable growth",
        abstract="What smart specialisation strategies have achieved, and how clusters can multiply the "
        "connections between regional value chains.",
        speakers=("peter-berkowitz",),
    ),
    Slot(
        "coffee-1",
        day=0,
        start="10:40",
        end="11:10",
        kind=K.BREAK,
        title="Coffee break",
        room=None,
        track=None,
    ),
    Slot(
        "panel-regions",
        day=0,
        start="11:10",
        end="12:30",
        kind=K.PANEL,
        title="Boosting smart interregional collaboration through clusters: lessons learned",
        abstract="Speakers from six Commission services, national ministries and regional authorities present "
        "the lessons learned so far and their views on the next generation of EU cluster initiatives.",
        speakers=("mario-buisan",),
    ),
    Slot(
        "lunch-1",
        day=0,
        start="12:30",
        end="14:00",
        kind=K.BREAK,
        title="Lunch",
        room=None,
        track=None,
    ),
    Slot(
        "group-discussion",
        day=0,
        start="14:00",
        end="15:45",
        kind=K.DISCUSSION,
        title="Interactive group discussion: good and bad practice in interregional collaboration",
        abstract="In small groups, participants share what helped and what hindered their collaboration "
        "across regions, and sketch topics for future joint initiatives.",
        track="Co-creation",
    ),
    Slot(
        "coffee-2",
        day=0,
        start="15:45",
        end="16:15",
        kind=K.BREAK,
        title="Coffee break",
        room=None,
        track=None,
    ),
    Slot(
        "smart-voting",
        day=0,
        start="16:15",
        end="17:00",
        kind=K.VOTING,
        title="Smart voting: what would most accelerate industrial modernisation?",
        abstract="Everyone votes from their phone on the actions most needed; the results feed the closing "
        "session and the Commission's next initiatives.",
        track="Co-creation",
    ),
    Slot(
        "bilaterals-1",
        day=0,
        start="17:00",
        end="18:30",
        kind=K.BILATERAL,
        title="Bilateral meetings",
        abstract="Pre-arranged one-to-one meetings between clusters, companies and regions looking for "
        "partners and beneficial collaborations for their members.",
        room="Sala Mediterrània",
        track="Partnering",
    ),
    Slot(
        "networking-dinner",
        day=0,
        start="20:00",
        end="22:30",
        kind=K.NETWORKING,
        title="Networking dinner",
        room=None,
        track="Partnering",
    ),
    # Day two.
    Slot(
        "co-creation",
        day=1,
        start="09:00",
        end="10:30",
        kind=K.DISCUSSION,
        title="Co-creating future cluster initiatives: the groups report back",
        abstract="The groups present the topics for future initiatives they developed and the partners "
        "they need: policy makers, SME intermediaries and industry.",
        track="Co-creation",
    ),
    Slot(
        "coffee-3",
        day=1,
        start="10:30",
        end="11:00",
        kind=K.BREAK,
        title="Coffee break",
        room=None,
        track=None,
    ),
    Slot(
        "bilaterals-2",
        day=1,
        start="11:00",
        end="12:30",
        kind=K.BILATERAL,
        title="Bilateral meetings and partnering market place",
        abstract="A second round of one-to-one meetings, and tables by theme to map out joint actions.",
        room="Sala Mediterrània",
        track="Partnering",
    ),
    Slot(
        "closing",
        day=1,
        start="12:30",
        end="13:15",
        kind=K.PLENARY,
        title="Closing: towards joint cluster initiatives and lessons learned under COSME and Horizon 2020",
        abstract="The Commission's vision for joint cluster initiatives and the two initiatives to be launched "
        "next, followed by a short conference video.",
        speakers=("ulla-engelmann",),
    ),
    Slot(
        "networking-lunch",
        day=1,
        start="13:15",
        end="14:30",
        kind=K.NETWORKING,
        title="Networking lunch",
        room=None,
        track="Partnering",
    ),
]


def sync(model: type[models.Model], *, lookup: dict, values: dict) -> tuple[models.Model, bool]:
    """`update_or_create` that writes only what differs, so that a second run changes nothing.

    Returns the object and whether it was created or changed.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save()
    return obj, bool(changed)


def upcoming_first_day(today: dt.date) -> dt.date:
    """The next edition's first day: the second Wednesday of November, as in 2017, with its
    pre-event day still ahead of `today` (this year's, else next year's)."""
    for year in (today.year, today.year + 1):
        first_of_november = dt.date(year, 11, 1)
        first_wednesday = first_of_november + dt.timedelta(days=(2 - first_of_november.weekday()) % 7)
        first_day = first_wednesday + dt.timedelta(days=7)
        if first_day - dt.timedelta(days=1) > today:
            return first_day
    raise AssertionError("unreachable: next year's November is always ahead")


def seed_growyourregion(*, today: dt.date) -> list[Conference]:
    """Create or update the past edition and the upcoming one. Idempotent: a second run
    writes nothing, and an edition whose content changed gets a new content version."""
    tz = zoneinfo.ZoneInfo(TIMEZONE)
    upcoming = upcoming_first_day(today)
    editions = [
        {
            "slug": PAST_SLUG,
            "name": "GROW your REGIOn 2017",
            "start_date": dt.date(2017, 11, 8),
            "registration_opens": dt.datetime(2017, 6, 1, 9, tzinfo=tz),
        },
        {
            "slug": UPCOMING_SLUG,
            "name": f"GROW your REGIOn {upcoming.year}",
            "start_date": upcoming,
            # Long enough before the pre-event day that registration is open today.
            "registration_opens": dt.datetime.combine(upcoming - dt.timedelta(days=400), dt.time(9), tzinfo=tz),
        },
    ]
    # The demo's texts are the originals, whichever language the caller has active.
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        return [_seed_edition(tz=tz, **edition) for edition in editions]


def _seed_edition(
    *, tz: zoneinfo.ZoneInfo, slug: str, name: str, start_date: dt.date, registration_opens: dt.datetime
) -> Conference:
    pre_event_day = start_date - dt.timedelta(days=1)
    conference, changed = sync(
        Conference,
        lookup={"slug": slug},
        values={
            "name": name,
            "tagline": "Boosting smart interregional collaboration through clusters",
            "description": DESCRIPTION,
            "venue": "Veles e Vents",
            "city": "Valencia",
            "country": "ES",
            "start_date": start_date,
            "end_date": start_date + dt.timedelta(days=1),
            "timezone": TIMEZONE,
            "capacity": 350,
            "registration_opens": registration_opens,
            "registration_closes": dt.datetime.combine(pre_event_day, dt.time(0), tzinfo=tz),
            "requires_approval": False,
            "is_published": True,
            "is_cancelled": False,
            "contact_email": "growyourregion@example.org",
            "privacy_statement": PRIVACY_STATEMENT,
        },
    )
    rooms = {}
    for position, (room_name, capacity) in enumerate(ROOMS):
        rooms[room_name], room_changed = sync(
            Room,
            lookup={"conference": conference, "name": room_name},
            values={"capacity": capacity, "position": position, **translations("name", room_name)},
        )
        changed |= room_changed
    tracks = {}
    for track_name, colour in TRACKS:
        tracks[track_name], track_changed = sync(
            Track,
            lookup={"conference": conference, "name": track_name},
            values={"colour": colour, **translations("name", track_name)},
        )
        changed |= track_changed
    speakers = {}
    for code, values in SPEAKERS.items():
        speakers[code], speaker_changed = sync(Speaker, lookup={"conference": conference, "code": code}, values=values)
        changed |= speaker_changed
    for slot in PROGRAMME:
        day = start_date + dt.timedelta(days=slot.day)
        session, session_changed = sync(
            Session,
            lookup={"conference": conference, "code": slot.code},
            values={
                "title": slot.title,
                **translations("title", slot.title),
                "kind": slot.kind,
                "abstract": slot.abstract,
                "start": dt.datetime.combine(day, dt.time.fromisoformat(slot.start), tzinfo=tz),
                "end": dt.datetime.combine(day, dt.time.fromisoformat(slot.end), tzinfo=tz),
                "room": rooms[slot.room] if slot.room else None,
                "track": tracks[slot.track] if slot.track else None,
                "capacity": slot.seats,
                "status": Session.Status.CONFIRMED,
            },
        )
        changed |= session_changed
        stale = session.session_speakers.exclude(speaker__code__in=slot.speakers)
        changed |= stale.delete()[0] > 0
        for position, code in enumerate(slot.speakers):
            changed |= sync(
                SessionSpeaker,
                lookup={"session": session, "speaker": speakers[code]},
                values={"role": SessionSpeaker.Role.SPEAKER, "position": position},
            )[1]
    if changed:
        # Public pages are cached by content version: what the seed changed must show.
        services.bump_content_version(conference.pk)
        conference.refresh_from_db()
    return conference


GIVEN_NAMES = ["Åsa", "Jürgen", "Zoë", "Łukasz", "Mária", "Søren", "Iñaki", "Chloé", "Dragoș", "Ana", "Pēteris", "Eva"]
FAMILY_NAMES = ["Nowak", "Müller", "García", "Öberg", "Dvořák", "Ó Briain", "Rossi", "Kovačić", "Jönsson", "Silva"]
BENCH_KINDS = [K.PLENARY, K.PANEL, K.DISCUSSION, K.PLENARY, K.PANEL, K.KEYNOTE, K.PLENARY, K.PANEL, K.DISCUSSION]
BENCH_DAYS = 3
BENCH_TIMEZONE = "Europe/Brussels"
BENCH_ROOMS = 10
BENCH_DAY_MINUTES = 600  # sessions run from 08:00 for ten hours, however many there are
BATCH_SIZE = 5000


def create_bench_conference(*, sessions: int, capacity: int, today: dt.date) -> Conference:
    """Replace the `bench` conference with a fresh synthetic programme, in bulk inserts.

    3 days, 10 rooms, `sessions` sessions with 1–3 speakers each; every tenth session is a
    bookable pre-event (first day) or workshop with seats. The caller must have removed the
    conference's registrations first (they protect it) and runs this in its transaction.
    """
    # Sessions first: they protect their rooms from the conference's cascade.
    Session.objects.filter(conference__slug=BENCH_SLUG).delete()
    Conference.objects.filter(slug=BENCH_SLUG).delete()
    tz = zoneinfo.ZoneInfo(BENCH_TIMEZONE)
    start_date = today + dt.timedelta(days=30)
    conference = Conference.objects.create(
        slug=BENCH_SLUG,
        name="Benchmark Conference",
        tagline="A synthetic programme for measuring the site under load",
        venue="Square Brussels Meeting Centre",
        city="Brussels",
        country="BE",
        start_date=start_date,
        end_date=start_date + dt.timedelta(days=BENCH_DAYS - 1),
        timezone=BENCH_TIMEZONE,
        capacity=capacity,
        registration_opens=dt.datetime.combine(today - dt.timedelta(days=30), dt.time(9), tzinfo=tz),
        registration_closes=dt.datetime.combine(start_date, dt.time(0), tzinfo=tz),
        is_published=True,
        contact_email="bench@example.org",
        privacy_statement=PRIVACY_STATEMENT,
    )
    rooms = Room.objects.bulk_create(
        Room(conference=conference, name=f"Room {n + 1}", capacity=1000 if n == 0 else 200, position=n)
        for n in range(BENCH_ROOMS)
    )
    tracks = Track.objects.bulk_create(
        Track(conference=conference, name=name, colour=colour) for name, colour in TRACKS if name != "Pre-events"
    )
    names = list(itertools.product(GIVEN_NAMES, FAMILY_NAMES))
    speakers = []
    for n in range(max(3, sessions // 2)):
        given, family = names[n % len(names)]
        suffix = f" {n // len(names) + 1}" if n >= len(names) else ""
        speakers.append(
            Speaker(
                conference=conference,
                code=f"spk{n + 1}",
                name=f"{given} {family}{suffix}",
                title="Cluster manager",
                organisation=f"Cluster {family}",
            )
        )
    Speaker.objects.bulk_create(speakers, batch_size=BATCH_SIZE)
    per_room_day = max(1, math.ceil(sessions / (BENCH_DAYS * BENCH_ROOMS)))
    length = dt.timedelta(minutes=max(1, BENCH_DAY_MINUTES // per_room_day))
    new_sessions = []
    for n in range(sessions):
        # Round the days and rooms first, so that even a few sessions fill all three days.
        slot, rest = divmod(n, BENCH_DAYS * BENCH_ROOMS)
        room_index, day = divmod(rest, BENCH_DAYS)
        start = dt.datetime.combine(start_date + dt.timedelta(days=day), dt.time(8), tzinfo=tz) + slot * length
        bookable = n % 10 == 0
        kind = (K.PRE_EVENT if day == 0 else K.WORKSHOP) if bookable else BENCH_KINDS[n % len(BENCH_KINDS)]
        new_sessions.append(
            Session(
                conference=conference,
                code=f"s{n + 1}",
                title=f"{kind.label}: cluster collaboration, part {n + 1}",
                kind=kind,
                start=start,
                end=start + length,
                room=rooms[room_index],
                track=tracks[n % len(tracks)],
                abstract="How clusters connect specialised ecosystems across regions and sectors.",
                capacity=rooms[room_index].capacity // 2 if bookable else None,
            )
        )
    Session.objects.bulk_create(new_sessions, batch_size=BATCH_SIZE)
    SessionSpeaker.objects.bulk_create(
        (
            SessionSpeaker(session=session, speaker=speakers[(n + position) % len(speakers)], position=position)
            for n, session in enumerate(new_sessions)
            for position in range(1 + n % 3)
        ),
        batch_size=BATCH_SIZE,
    )
    # A new conference under the old slug: the cached one must go.
    caching.forget_conference(conference.pk)
    return conference
