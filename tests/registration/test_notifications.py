import datetime as dt

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import dateformat, timezone
from icalendar import Calendar

from agenda import events, stars
from agenda.calendar import conference_uid, session_uid
from agenda.models import Session
from outbox.emails import send_email
from outbox.models import OutgoingEmail
from registration.models import Booking, Registration
from registration.notifications import CALENDAR_KINDS, KINDS, notify, queue_reminders
from tests.emails import written
from tests.factories import BookingFactory, ConferenceFactory, RegistrationFactory, SessionFactory

pytestmark = pytest.mark.django_db


def extra_context_for(kind: str, registration: Registration) -> dict:
    if kind == "waitlisted":
        return {"position": 7}
    if kind == "rejected":
        return {"reason": "The conference is for cluster managers."}
    if kind == "session_changed":
        return {"session": SessionFactory(conference=registration.conference, title="Smart voting")}
    return {}


def calendar_uids(email: OutgoingEmail) -> list[str]:
    (attachment,) = email.attachments
    assert attachment["filename"] == f"{email.conference.slug}.ics"
    assert attachment["mimetype"] == "text/calendar"
    return [str(event["UID"]) for event in Calendar.from_ical(attachment["content"]).walk("VEVENT")]


@pytest.mark.parametrize("kind", KINDS)
def test_notify_every_kind_has_subject_text_html_and_link(kind):
    conference = ConferenceFactory(name="Cluster Days 2027", slug="cluster-days", contact_email="team@example.org")
    registration = RegistrationFactory(conference=conference, given_name="Elźbieta", user__email="ela@example.pl")

    email = notify(registration, kind, extra_context=extra_context_for(kind, registration))

    send_email(email.pk)  # the worker writes it, sends it and keeps what it sent
    email.refresh_from_db()
    link = f"{settings.SITE_URL}/cluster-days/my-registration/"
    assert email.subject.startswith("Cluster Days 2027: ")
    assert "\n" not in email.subject
    assert (email.kind, email.to, email.conference, email.language) == (
        kind,
        "ela@example.pl",
        registration.conference,
        "en",
    )
    assert email.reply_to == "team@example.org"
    assert email.status == OutgoingEmail.Status.SENT
    assert email.body_text.startswith("Dear Elźbieta,\n\n")
    assert link in email.body_text
    assert "team@example.org" in email.body_text
    assert f'href="{link}"' in email.body_html
    assert '<html lang="en" dir="ltr">' in email.body_html
    assert "<p>Dear Elźbieta,</p>" in email.body_html
    for body in (email.body_text, email.body_html):
        assert "{{" not in body
        assert "{%" not in body


def test_notify_renders_in_attendees_language_and_conference_time_zone():
    conference = ConferenceFactory(
        timezone="Europe/Madrid", start_date=dt.date(2027, 3, 15), end_date=dt.date(2027, 3, 16)
    )
    registration = RegistrationFactory(conference=conference, language="es")
    # 09:30 in Madrid is 08:30 UTC in March.
    BookingFactory(registration=registration, session__start=dt.datetime(2027, 3, 15, 8, 30, tzinfo=dt.UTC))

    email = written(notify(registration, "confirmed"))

    assert email.language == "es"
    assert "15 de marzo de 2027" in email.body_text
    assert "09:30–10:30 (Europe/Madrid)" in email.body_text
    assert "08:30" not in email.body_text
    assert '<html lang="es" dir="ltr">' in email.body_html
    assert "15 de marzo de 2027" in email.body_html
    # The attendee's language applied to their email only.
    assert (
        written(notify(RegistrationFactory(conference=conference), "confirmed")).body_text.count("15 March 2027") == 2
    )


def test_notify_escapes_what_people_typed_in_html_only():
    registration = RegistrationFactory(given_name='<script>alert("x")</script>', conference__name="R&D <Days>")

    email = written(notify(registration, "received"))

    assert "<script>" not in email.body_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in email.body_html
    assert "R&amp;D &lt;Days&gt;" in email.body_html
    assert 'Dear <script>alert("x")</script>,' in email.body_text
    assert email.subject.startswith("R&D <Days>: ")


@pytest.mark.parametrize("kind", sorted(CALENDAR_KINDS - {"session_changed"}))
def test_notify_confirmation_attaches_conference_and_booked_sessions_with_agenda_uids(kind):
    registration = RegistrationFactory()
    booked = BookingFactory(registration=registration, session__title="Pre-event: clusters and regions").session
    waiting = BookingFactory(registration=registration, status=Booking.Status.WAITLISTED).session

    email = written(notify(registration, kind))

    uids = calendar_uids(email)
    assert uids == [conference_uid(registration.conference), session_uid(booked)]
    assert session_uid(waiting) not in uids
    assert "Pre-event: clusters and regions" in email.body_text
    assert waiting.title not in email.body_text


@pytest.mark.parametrize("kind", sorted(set(KINDS) - CALENDAR_KINDS))
def test_notify_other_kinds_carry_no_calendar(kind):
    registration = RegistrationFactory()
    BookingFactory(registration=registration)

    assert written(notify(registration, kind, extra_context=extra_context_for(kind, registration))).attachments == []


def test_notify_waitlisted_states_position():
    email = written(
        notify(RegistrationFactory(conference__name="Cluster Days"), "waitlisted", extra_context={"position": 12})
    )

    assert "Cluster Days is full, so you are on the waiting list, at position 12." in email.body_text


def test_notify_promoted_from_the_conference_waiting_list_speaks_of_a_place_and_its_number():
    registration = RegistrationFactory(conference__name="Cluster Days", number=42)

    email = written(notify(registration, "promoted"))

    assert email.subject == "Cluster Days: A place has freed up and it is yours"
    assert (
        "A place at Cluster Days has freed up and it is yours: your registration is now confirmed. "
        "Your registration number is 42." in email.body_text
    )
    assert "seat" not in email.body_text


def test_notify_promoted_to_a_pre_event_seat_names_the_pre_event_not_a_conference_place():
    registration = RegistrationFactory(conference__name="Cluster Days", number=42)
    booking = BookingFactory(registration=registration, session__title="Digital clusters")

    email = written(notify(registration, "promoted", extra_context={"session": booking.session}))

    assert email.subject == "Cluster Days: A seat at “Digital clusters” has freed up and it is yours"
    assert (
        "A seat at “Digital clusters” has freed up and it is yours: you were next on its waiting list, "
        "and your seat is now confirmed." in email.body_text
    )
    assert "A seat at “Digital clusters” has freed up" in email.body_html
    for body in (email.body_text, email.body_html):
        assert "A place at Cluster Days" not in body
        assert "registration number" not in body
    assert "- Digital clusters: " in email.body_text


def test_notify_rejected_gives_the_reason():
    email = written(notify(RegistrationFactory(), "rejected", extra_context={"reason": "Cluster managers only."}))

    assert "Their reason: Cluster managers only." in email.body_text


def test_notify_nobody_when_account_deleted():
    registration = RegistrationFactory(user=None)

    assert notify(registration, "cancelled") is None
    assert not OutgoingEmail.objects.exists()


def test_notify_unknown_kind_refused():
    with pytest.raises(ValueError, match="Unknown email kind"):
        notify(RegistrationFactory(), "welcome")


def test_notify_waitlisted_without_position_refused():
    with pytest.raises(ValueError, match="The waitlisted email needs position"):
        notify(RegistrationFactory(), "waitlisted")

    assert not OutgoingEmail.objects.exists()


def test_notify_rolled_back_with_the_change_it_reports():
    registration = RegistrationFactory()

    def register_then_fail():
        with transaction.atomic():
            notify(registration, "confirmed")
            raise RuntimeError("the registration failed after all")

    with pytest.raises(RuntimeError):
        register_then_fail()

    assert not OutgoingEmail.objects.exists()


def test_session_changed_notifies_each_confirmed_booking_with_new_time():
    session = SessionFactory(kind=Session.Kind.PRE_EVENT, title="Cluster excellence")
    confirmed = BookingFactory.create_batch(2, session=session, registration__conference=session.conference)
    BookingFactory(session=session, registration__conference=session.conference, status=Booking.Status.WAITLISTED)
    BookingFactory(
        session=session,
        registration__conference=session.conference,
        registration__status=Registration.Status.CANCELLED,
    )
    previous_start = session.start
    session.start += dt.timedelta(hours=2)
    session.end += dt.timedelta(hours=2)
    session.sequence += 1
    session.save()

    with transaction.atomic():
        events.announce(events.SESSION_CHANGED, session=session, changes={"start": (previous_start, session.start)})

    emails = OutgoingEmail.objects.filter(kind="session_changed").order_by("to")
    assert [email.to for email in emails] == sorted(booking.registration.user.email for booking in confirmed)
    email = written(emails[0])
    assert email.subject == f"{session.conference.name}: Changed: Cluster excellence"
    assert "“Cluster excellence”, which you booked at" in email.body_text
    date = dateformat.format(session.start.astimezone(session.conference.tz), "l j F Y")
    assert f"{date}, 11:00–12:00 (Europe/Madrid), {session.room.name}\nPreviously: {date}, 09:00\n" in email.body_text
    (event,) = Calendar.from_ical(email.attachments[0]["content"]).walk("VEVENT")[1:]
    assert (str(event["UID"]), event["SEQUENCE"]) == (session_uid(session), 1)


def test_session_changed_cancelled_session_says_so():
    booking = BookingFactory(session__title="Bilateral meetings")
    session = booking.session
    session.status = Session.Status.CANCELLED
    session.save()

    events.announce(events.SESSION_CHANGED, session=session, changes={"status": ("confirmed", "cancelled")})

    email = written(OutgoingEmail.objects.get(kind="session_changed"))
    assert email.subject.endswith(": Cancelled: Bilateral meetings")
    assert "“Bilateral meetings”, which you booked at" in email.body_text
    assert "is cancelled" in email.body_text
    assert b"STATUS:CANCELLED" in email.attachments[0]["content"].encode()


def _conference_starting_in(days: int, **kwargs):
    start = timezone.localdate(timezone=dt.UTC) + dt.timedelta(days=days)
    return ConferenceFactory(
        timezone="UTC",
        start_date=start,
        end_date=start + dt.timedelta(days=1),
        registration_closes=None,
        **kwargs,
    )


def test_queue_reminders_once_per_confirmed_registration_when_due(settings):
    settings.REMINDER_DAYS_BEFORE = 3
    due = _conference_starting_in(3)
    reminded = RegistrationFactory.create_batch(2, conference=due)
    for status in (Registration.Status.WAITLISTED, Registration.Status.PENDING, Registration.Status.CANCELLED):
        RegistrationFactory(conference=due, status=status)
    RegistrationFactory(conference=due, user=None)
    RegistrationFactory(conference=_conference_starting_in(4))
    RegistrationFactory(conference=_conference_starting_in(-1))
    RegistrationFactory(conference=_conference_starting_in(1, is_cancelled=True))

    assert queue_reminders(limit=100) == 2
    assert queue_reminders(limit=100) == 0

    emails = OutgoingEmail.objects.filter(kind="reminder")
    assert sorted(email.to for email in emails) == sorted(registration.user.email for registration in reminded)
    assert "starts soon and we look forward to seeing you there" in written(emails[0]).body_text


def test_queue_reminders_in_batches():
    conference = _conference_starting_in(1)
    RegistrationFactory.create_batch(3, conference=conference)

    assert [queue_reminders(limit=2), queue_reminders(limit=2), queue_reminders(limit=2)] == [2, 1, 0]
    assert OutgoingEmail.objects.filter(kind="reminder").count() == 3


def test_the_reminder_lists_the_seats_booked_day_by_day_in_the_conference_zone():
    conference = ConferenceFactory(
        timezone="Europe/Madrid", start_date=dt.date(2027, 3, 15), end_date=dt.date(2027, 3, 16)
    )
    registration = RegistrationFactory(conference=conference)
    # 09:30 and, the next day, 14:00 in Madrid (UTC+1 in March).
    BookingFactory(
        registration=registration,
        session__title="Smart specialisation lab",
        session__room__name="Sala Mediterráneo",
        session__start=dt.datetime(2027, 3, 16, 13, 0, tzinfo=dt.UTC),
    )
    BookingFactory(
        registration=registration,
        session__title="Site visit: port of Valencia",
        session__start=dt.datetime(2027, 3, 15, 8, 30, tzinfo=dt.UTC),
    )
    BookingFactory(registration=registration, session__title="Waiting for a seat", status=Booking.Status.WAITLISTED)
    stars.star_session(registration.user, SessionFactory(conference=conference, title="Only starred"))

    email = written(notify(registration, "reminder"))

    text = email.body_text
    assert "Your programme (times in Europe/Madrid):\n\nMonday 15 March 2027\n- 09:30–10:30 Site visit" in text
    assert "Tuesday 16 March 2027\n- 14:00–15:00 Smart specialisation lab, Sala Mediterráneo\n" in text
    assert text.index("Site visit") < text.index("Smart specialisation lab")
    assert "Waiting for a seat" not in text
    assert "Only starred" not in text
    assert (
        "<p>Tuesday 16 March 2027</p>\n<ul><li>14:00–15:00 Smart specialisation lab, Sala Mediterráneo</li></ul>"
        in (email.body_html)
    )


def test_a_reminder_without_seats_or_entries_has_no_programme():
    email = written(notify(RegistrationFactory(), "reminder"))

    assert "starts soon" in email.body_text
    assert "Your programme" not in email.body_text


@pytest.mark.parametrize("count", [1, 8])
def test_writing_a_reminder_costs_the_same_queries_for_1_or_8_seats(count, django_assert_num_queries):
    registration = RegistrationFactory()
    BookingFactory.create_batch(count, registration=registration)
    email = notify(registration, "reminder")

    # The registration, its bookings, then each source of My programme (the meetings: the profile).
    with django_assert_num_queries(3):
        written(email)

    assert written(email).body_text.count("\n- ") == count


def test_the_reminder_lists_the_programme_in_the_attendees_language():
    conference = ConferenceFactory(
        timezone="Europe/Madrid", start_date=dt.date(2027, 3, 15), end_date=dt.date(2027, 3, 16)
    )
    registration = RegistrationFactory(conference=conference, language="es")
    BookingFactory(registration=registration, session__start=dt.datetime(2027, 3, 15, 8, 30, tzinfo=dt.UTC))

    text = written(notify(registration, "reminder")).body_text

    assert "Su programa (horas en Europe/Madrid):\n\nlunes, 15 de marzo de 2027\n- 09:30–10:30 " in text
