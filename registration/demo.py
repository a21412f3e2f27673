"""The people of `manage.py seed_demo`: the demo accounts and the attendees of `bench`."""

import datetime as dt
import itertools

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Team
from accounts.teams import PERMISSIONS
from agenda import demo as agenda_demo
from agenda.models import Conference, Session
from outbox.models import OutgoingEmail
from registration import messaging, selectors
from registration.models import CONSENT_TEXTS, Booking, Consent, Message, Registration, RegistrationChange, User

ORGANISER_EMAIL = "organiser@example.org"
STAFF_EMAIL = "staff@example.org"
# Checks people in at the upcoming edition's door: a member of its check-in team (checkin.demo).
CHECKIN_EMAIL = "checkin@example.org"
PROGRAMME_EMAIL = "programme@example.org"
BENCH_TEAM = "Bench registration desk"
# Each demo team: its name, its conference, its members and what it may do. The organiser is
# a superuser and needs none; the 2017 team shows a past edition's team, with nobody left in it.
TEAMS = [
    (
        "GROW your REGIOn 2017",
        agenda_demo.PAST_SLUG,
        [],
        ["can_edit_programme", "can_view_registrations", "can_change_registrations", "can_export_attendees"],
    ),
    ("Registration desk", agenda_demo.UPCOMING_SLUG, [STAFF_EMAIL], ["can_view_registrations", "can_export_attendees"]),
    ("Programme", agenda_demo.UPCOMING_SLUG, [PROGRAMME_EMAIL], ["can_edit_programme"]),
]
BENCH_EMAIL = "bench-{:06d}@example.org"
BATCH_SIZE = 5000
# Share of a bookable bench session's seats that its bookings fill.
BENCH_BOOKING_SHARE = 0.8

COUNTRIES = ["ES", "FR", "DE", "IT", "PL", "BE", "NL", "PT", "SE", "FI", "AT", "CZ", "GR", "IE", "RO"]


def seed_demo_accounts(*, password: str, keep_passwords: bool) -> list[tuple[User, bool]]:
    """Create or update the demo accounts and their teams (TEAMS): the organiser
    (superuser), the staff (sees and exports the upcoming edition's registrations), the
    programme editor (edits the upcoming edition's programme) and the check-in account
    (neither staff nor superuser: the check-in team that checkin.demo makes lets it in),
    each with a verified email address so that they can also log in on the site. Needs the
    demo conferences.

    New accounts get `password`; existing ones too unless `keep_passwords`, so that a run
    without a chosen password changes nothing. Returns each account and whether it got it.
    """
    accounts = []
    with transaction.atomic():
        for email, is_staff, is_superuser in (
            (ORGANISER_EMAIL, True, True),
            (STAFF_EMAIL, True, False),
            (PROGRAMME_EMAIL, True, False),
            (CHECKIN_EMAIL, False, False),
        ):
            user, created = User.objects.get_or_create(email=email)
            user.is_active = True
            user.is_staff = is_staff
            user.is_superuser = is_superuser
            password_set = created or not keep_passwords
            if password_set:
                user.set_password(password)
            user.save()
            EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
            accounts.append((user, password_set))
        for name, slug, members, permissions in TEAMS:
            team, _ = Team.objects.update_or_create(
                name=name, defaults={permission: permission in permissions for permission in PERMISSIONS}
            )
            team.conferences.set(Conference.objects.filter(slug=slug))
            team.members.set(User.objects.filter(email__in=members))
    return accounts


# A message in the upcoming edition's history, so organisers find one in the admin.
DEMO_MESSAGE = {
    "subject_en": "Venue map and what to bring",
    "body_en": (
        "Dear {given_name},\n\n"
        "The conference takes place at Veles e Vents, on the port of Valencia: the registration desk is on the "
        "ground floor, the Auditorium and the rooms of the group sessions on the first floor. Take the tram "
        "(line 6 or 8) to Marina or bus 19 to the port; there is no parking for visitors.\n\n"
        "Please bring an identity document (the venue checks it at the door), the QR code of your ticket on "
        "your phone or printed, and a jacket: the terraces are windy in the evening.\n\n"
        "Your registration: {my_registration_url}"
    ),
    "subject_es": "Plano del recinto y qué traer",
    "body_es": (
        "Hola, {given_name}:\n\n"
        "La conferencia se celebra en Veles e Vents, en el puerto de Valencia: el mostrador de acreditación está "
        "en la planta baja; el Auditorio y las salas de los grupos de trabajo, en la primera planta. Llegue en "
        "tranvía (líneas 6 u 8) hasta Marina o en el autobús 19 hasta el puerto; no hay aparcamiento para "
        "visitantes.\n\n"
        "Traiga un documento de identidad (el recinto lo pide en la entrada), el código QR de su entrada en el "
        "móvil o impreso y una chaqueta: por la tarde sopla el viento en las terrazas.\n\n"
        "Su inscripción: {my_registration_url}"
    ),
    "subject_fr": "Plan du site et que prendre avec vous",
    "body_fr": (
        "Bonjour {given_name},\n\n"
        "La conférence a lieu à Veles e Vents, sur le port de Valence : l'accueil est au rez-de-chaussée, "
        "l'Auditorium et les salles des ateliers au premier étage. Prenez le tram (ligne 6 ou 8) jusqu'à Marina "
        "ou le bus 19 jusqu'au port ; il n'y a pas de parking pour les visiteurs.\n\n"
        "Munissez-vous d'une pièce d'identité (contrôlée à l'entrée), du code QR de votre billet sur votre "
        "téléphone ou imprimé, et d'une veste : les terrasses sont venteuses le soir.\n\n"
        "Votre inscription : {my_registration_url}"
    ),
    "subject_de": "Lageplan und was Sie mitbringen sollten",
    "body_de": (
        "Hallo {given_name},\n\n"
        "Die Konferenz findet im Veles e Vents am Hafen von Valencia statt: Die Anmeldung ist im Erdgeschoss, "
        "das Auditorium und die Räume der Gruppensitzungen sind im ersten Stock. Fahren Sie mit der "
        "Straßenbahn (Linie 6 oder 8) bis Marina oder mit dem Bus 19 zum Hafen; Besucherparkplätze gibt es "
        "nicht.\n\n"
        "Bitte bringen Sie einen Ausweis mit (er wird am Eingang geprüft), den QR-Code Ihres Tickets auf dem "
        "Handy oder ausgedruckt und eine Jacke: Abends ist es auf den Terrassen windig.\n\n"
        "Ihre Anmeldung: {my_registration_url}"
    ),
}


def seed_demo_message() -> Message:
    """The upcoming edition's message "Venue map and what to bring" to its confirmed
    attendees, sent as an organiser sends one: through the outbox, each attendee in their
    registration's language. Made once: a later run finds it (by its English subject) and
    sends nothing. Needs the demo accounts and the upcoming edition's attendees."""
    conference = Conference.objects.get(slug=agenda_demo.UPCOMING_SLUG)
    message = Message.objects.filter(conference=conference, subject_en=DEMO_MESSAGE["subject_en"]).first()
    if message is not None:
        return message
    organiser = User.objects.get(email=ORGANISER_EMAIL)
    message = Message.objects.create(
        conference=conference,
        statuses=[Registration.Status.CONFIRMED],
        essential=True,
        language="en",
        created_by=organiser,
        **DEMO_MESSAGE,
    )
    messaging.start_sending(message.pk, actor=organiser)
    # Queued here rather than by the task start_sending hands it to (which then finds it
    # done), so that the demo holds it whether or not a worker runs.
    while messaging.queue_batch(message.pk):
        pass
    message.refresh_from_db()
    return message


def seed_bench(*, sessions: int, attendees: int, password: str, today: dt.date) -> Conference:
    """(Re)create the `bench` conference: its synthetic programme, `attendees` confirmed
    registrations of users `bench-000001@example.org`… with `password` (their email is not
    verified: benchmarks log them in with a session cookie), bookings filling most seats
    of its pre-events and workshops, and a team through which the staff account (whose
    session the benchmarks use for the attendee lists) may export them.

    Bulk inserts in one transaction: the old bench and its users go, the new one appears
    whole or not at all.
    """
    with transaction.atomic():
        _delete_bench()
        conference = agenda_demo.create_bench_conference(
            sessions=sessions, capacity=attendees + max(attendees // 10, 100), today=today
        )
        registrations = _create_attendees(conference, count=attendees, password=password)
        _create_bookings(conference, registrations)
        team, _ = Team.objects.update_or_create(
            name=BENCH_TEAM, defaults={"can_view_registrations": True, "can_export_attendees": True}
        )
        team.conferences.set([conference])
        team.members.set(User.objects.filter(email=STAFF_EMAIL))
    return conference


def _delete_bench() -> None:
    registrations = Registration.objects.filter(conference__slug=agenda_demo.BENCH_SLUG)
    users = User.objects.filter(email__startswith="bench-", email__endswith="@example.org")
    _delete_in_bulk(Booking.objects.filter(registration__in=registrations))
    RegistrationChange.objects.filter(registration__in=registrations).delete()
    _delete_in_bulk(Consent.objects.filter(registration__in=registrations))
    OutgoingEmail.objects.filter(conference__slug=agenda_demo.BENCH_SLUG).delete()
    _delete_in_bulk(registrations)
    _delete_in_bulk(EmailAddress.objects.filter(user__in=users))
    _delete_in_bulk(users)


def _delete_in_bulk(queryset: QuerySet) -> None:
    """One DELETE in the database. `QuerySet.delete()` first loads every row into Python to
    cascade, which for 100,000 attendees takes longer than creating them; here the caller
    deletes what refers to the rows first (and the database refuses if it forgot any)."""
    model = queryset.model
    subquery, params = queryset.values("pk").query.sql_with_params()
    table, pk = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        # Table and column names come from the models' _meta, values are parameters.
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({subquery})", params)  # noqa: S608  # nosec B608


def _create_attendees(conference: Conference, *, count: int, password: str) -> list[Registration]:
    # One hash for all: hashing 100,000 passwords would take minutes, and they are equal anyway.
    password_hash = make_password(password)
    now = timezone.now()
    users = User.objects.bulk_create(
        (User(email=BENCH_EMAIL.format(n), password=password_hash, date_joined=now) for n in range(1, count + 1)),
        batch_size=BATCH_SIZE,
    )
    names = list(itertools.product(agenda_demo.GIVEN_NAMES, agenda_demo.FAMILY_NAMES))
    types = Registration.OrganisationType.values
    statement = selectors.privacy_statement(conference)
    registrations = []
    for n, user in enumerate(users):
        given, family = names[n % len(names)]
        country = COUNTRIES[n % len(COUNTRIES)]
        registrations.append(
            Registration(
                conference=conference,
                user=user,
                number=n + 1,
                status=Registration.Status.CONFIRMED,
                given_name=given,
                family_name=family,
                organisation=f"Cluster {family} {country}",
                organisation_type=types[n % len(types)],
                country=country,
                job_title="Cluster manager",
                privacy_statement_agreed=statement,
                privacy_agreed_at=now,
                created_at=now,
                status_changed_at=now,
            )
        )
    registrations = Registration.objects.bulk_create(registrations, batch_size=BATCH_SIZE)
    Consent.objects.bulk_create(
        (
            Consent(registration=registration, purpose=Consent.Purpose.PRIVACY, text=statement, given_at=now)
            for registration in registrations
        ),
        batch_size=BATCH_SIZE,
    )
    return registrations


def record_consents(registration: Registration) -> None:
    """A demo attendee's consents as their registration's flags say they gave them, each once
    (the privacy statement they agreed to, photos unless kept out, optional messages unless
    declined): the demo's records match its registrations on every page."""
    given = {
        Consent.Purpose.PRIVACY: registration.privacy_statement_agreed,
        Consent.Purpose.PHOTOS: None if registration.photo_opt_out else str(CONSENT_TEXTS[Consent.Purpose.PHOTOS]),
        Consent.Purpose.MESSAGES: None
        if registration.essential_messages_only
        else str(CONSENT_TEXTS[Consent.Purpose.MESSAGES]),
    }
    for purpose, text in given.items():
        if text is not None:
            Consent.objects.get_or_create(
                registration=registration,
                purpose=purpose,
                withdrawn_at=None,
                defaults={"text": text, "given_at": registration.privacy_agreed_at},
            )


def _create_bookings(conference: Conference, registrations: list[Registration]) -> None:
    """Fill each bookable session to its share of seats, taking attendees in turn so that
    the bookings spread over everyone before anyone gets a second one."""
    if not registrations:
        return
    turn = itertools.cycle(registrations)
    bookings = []
    for session in Session.objects.with_sign_up().filter(conference=conference).order_by("pk"):
        taken = min(int(session.capacity * BENCH_BOOKING_SHARE), len(registrations))
        bookings.extend(
            Booking(registration=registration, session=session, status=Booking.Status.CONFIRMED)
            for registration in itertools.islice(turn, taken)
        )
    Booking.objects.bulk_create(bookings, batch_size=BATCH_SIZE)
