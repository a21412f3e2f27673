import datetime as dt
import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Team
from accounts.teams import PERMISSIONS, user_can
from agenda.models import Conference, Room, Session, SessionSpeaker, Speaker, Track
from outbox.models import OutgoingEmail
from registration.models import Booking, Message, Registration, User

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every field of every row the seed writes."""
    models = [Conference, Room, Track, Speaker, Session, SessionSpeaker, User, EmailAddress, Team, Team.members.through]
    return {
        model.__name__: sorted(
            repr([(field.attname, getattr(obj, field.attname)) for field in model._meta.concrete_fields])
            for obj in model.objects.all()
        )
        for model in models
    }


def test_seed_demo_creates_the_2017_edition_from_the_seeds(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "Veles-e-Vents-2017")
    seed()

    conference = Conference.objects.get(slug="growyourregion-2017")
    assert (conference.venue, conference.city, conference.country.code) == ("Veles e Vents", "Valencia", "ES")
    assert (conference.start_date, conference.end_date) == (dt.date(2017, 11, 8), dt.date(2017, 11, 9))
    assert (conference.timezone, conference.capacity, conference.is_published) == ("Europe/Madrid", 350, True)
    assert not conference.registration_state.is_open

    def speakers_of(code: str) -> list[tuple[str, str]]:
        session = conference.sessions.get(code=code)
        return [(s.name, s.title) for s in session.speakers.order_by("session_speakers__position")]

    assert speakers_of("opening") == [("Ximo Puig", "President of the Valencia Regional Government")]
    keynotes = conference.sessions.filter(kind=Session.Kind.KEYNOTE).order_by("start")
    assert [s.name for keynote in keynotes for s in keynote.speakers.all()] == ["Antti Peltomäki", "Peter Berkowitz"]
    assert "DG GROW" in conference.speakers.get(code="antti-peltomaki").title
    assert "DG REGIO" in conference.speakers.get(code="peter-berkowitz").title
    assert speakers_of("closing") == [
        ("Ulla Engelmann", "Head of Unit, Clusters, Social Economy and Entrepreneurship, DG GROW")
    ]
    assert conference.sessions.get(code="closing").start > conference.sessions.get(code="keynote-regio").end

    pre_events = list(conference.sessions.filter(kind=Session.Kind.PRE_EVENT))
    madrid = conference.tz
    assert len(pre_events) == 5
    assert {session.start.astimezone(madrid).date() for session in pre_events} == {dt.date(2017, 11, 7)}
    assert len({session.room_id for session in pre_events}) == 5
    assert all(
        session.is_bookable and session.seats and session.seats <= session.room.capacity for session in pre_events
    )
    assert max(s.start for s in pre_events) < min(s.end for s in pre_events), "the pre-events run in parallel"
    assert all(session.end <= conference.sessions.get(code="opening").start for session in pre_events)
    kinds = set(conference.sessions.values_list("kind", flat=True))
    assert {
        Session.Kind.DISCUSSION,
        Session.Kind.VOTING,
        Session.Kind.BILATERAL,
        Session.Kind.NETWORKING,
        Session.Kind.BREAK,
    } <= kinds
    assert conference.rooms.count() >= 6
    assert conference.tracks.count() >= 3


def test_seed_demo_creates_the_upcoming_edition_open_for_registration():
    seed()

    past = Conference.objects.get(slug="growyourregion-2017")
    upcoming = Conference.objects.get(slug="growyourregion")
    assert upcoming.start_date > timezone.localdate()
    assert upcoming.registration_state.is_open
    assert upcoming.name == f"GROW your REGIOn {upcoming.start_date.year}"
    assert upcoming.venue == past.venue
    assert upcoming.capacity == 350
    assert sorted(upcoming.sessions.values_list("code", "kind", "title")) == sorted(
        past.sessions.values_list("code", "kind", "title")
    )
    pre_event = upcoming.sessions.filter(kind=Session.Kind.PRE_EVENT).first()
    assert pre_event.start.astimezone(upcoming.tz).date() == upcoming.start_date - dt.timedelta(days=1)
    assert upcoming.registration_closes <= pre_event.start


def test_seed_demo_sends_the_upcoming_editions_message_once_to_its_confirmed_attendees():
    output = seed()
    seed()

    upcoming = Conference.objects.get(slug="growyourregion")
    (message,) = Message.objects.with_counts().filter(conference=upcoming)
    confirmed = Registration.objects.filter(conference=upcoming, status=Registration.Status.CONFIRMED)
    assert message.state == Message.State.SENT
    assert message.sent_by.email == "organiser@example.org"
    assert message.recipient_count == message.queued_count == confirmed.count() > 0
    emails = OutgoingEmail.objects.filter(kind=message.email_kind)
    assert sorted(emails.values_list("to", flat=True)) == sorted(confirmed.values_list("user__email", flat=True))
    assert "Venue map and what to bring" in set(emails.values_list("subject", flat=True))
    assert f"the message “Venue map and what to bring” to {confirmed.count()} attendees" in output


def test_seed_demo_twice_changes_nothing(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    seed()
    first = snapshot()

    seed()

    assert snapshot() == first


def test_seed_demo_restores_what_an_organiser_changed_and_marks_the_pages_stale():
    seed()
    conference = Conference.objects.get(slug="growyourregion")
    version = conference.content_version
    Session.objects.filter(conference=conference, code="opening").update(title="Something else")

    seed()

    conference.refresh_from_db()
    assert conference.sessions.get(code="opening").title == "Opening of the conference"
    assert conference.content_version == version + 1


def test_seed_demo_gives_the_demo_accounts_the_chosen_password(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "Veles-e-Vents-2017")

    output = seed()

    organiser = User.objects.get(email="organiser@example.org")
    staff = User.objects.get(email="staff@example.org")
    programme = User.objects.get(email="programme@example.org")
    assert (organiser.is_superuser, organiser.is_staff) == (True, True)
    assert (staff.is_superuser, staff.is_staff) == (False, True)
    assert (programme.is_superuser, programme.is_staff) == (False, True)
    for user in (organiser, staff, programme):
        assert user.check_password("Veles-e-Vents-2017")
    assert set(EmailAddress.objects.filter(verified=True, primary=True).values_list("email", flat=True)) == {
        "organiser@example.org",
        "staff@example.org",
        "programme@example.org",
        "checkin@example.org",
    }
    assert "organiser@example.org  password: Veles-e-Vents-2017" in output


def test_seed_demo_prints_a_random_password_and_keeps_it_on_the_next_run(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    output = seed()
    again = seed()

    password = re.search(r"organiser@example.org  password: (\S+)", output).group(1)
    assert len(password) >= 12
    assert User.objects.get(email="organiser@example.org").check_password(password)
    assert User.objects.get(email="staff@example.org").check_password(password)
    assert "password: unchanged" in again


def test_seed_demo_bench_builds_the_synthetic_conference(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "Veles-e-Vents-2017")

    output = seed("--bench-sessions", "40", "--bench-attendees", "30")

    bench = Conference.objects.get(slug="bench")
    assert (bench.end_date - bench.start_date).days == 2
    assert bench.registration_state.is_open
    assert bench.rooms.count() == 10
    sessions = bench.sessions.all()
    assert sessions.count() == 40
    assert {session.speakers.count() for session in sessions} == {1, 2, 3}
    days = {session.start.astimezone(bench.tz).date() for session in sessions}
    assert days == {bench.start_date + dt.timedelta(days=n) for n in range(3)}
    registrations = Registration.objects.filter(conference=bench)
    assert registrations.count() == 30
    assert set(registrations.values_list("status", flat=True)) == {Registration.Status.CONFIRMED}
    assert sorted(registrations.values_list("number", flat=True)) == list(range(1, 31))
    assert bench.capacity >= 30
    bookable = sessions.filter(kind__in=Session.BOOKABLE_KINDS)
    assert bookable.exists()
    for session in bookable:
        booked = Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED).count()
        assert 0 < booked <= session.seats
    attendee = User.objects.get(email="bench-000001@example.org")
    assert attendee.check_password("Veles-e-Vents-2017")
    assert "30 attendees" in output
    # The benchmarks download its attendee list as the staff account.
    assert user_can(User.objects.get(email="staff@example.org"), bench, "can_export_attendees")


def test_seed_demo_bench_again_replaces_the_previous_one():
    seed("--bench-sessions", "40", "--bench-attendees", "30")
    first_bench = Conference.objects.get(slug="bench")

    seed("--bench-sessions", "12", "--bench-attendees", "5")

    bench = Conference.objects.get(slug="bench")
    assert not Conference.objects.filter(pk=first_bench.pk).exists()
    assert bench.sessions.count() == 12
    assert Registration.objects.filter(conference=bench).count() == 5
    assert User.objects.filter(email__startswith="bench-").count() == 5
    assert Booking.objects.filter(registration__conference=bench).count() > 0
    assert Conference.objects.filter(slug__startswith="growyourregion").count() == 2


@pytest.mark.parametrize(
    "arguments",
    [("--bench-attendees", "10"), ("--bench-sessions", "0"), ("--bench-sessions", "5", "--bench-attendees", "-1")],
)
def test_seed_demo_refuses_bench_options_that_make_no_sense(arguments):
    with pytest.raises(CommandError):
        seed(*arguments)

    assert not Conference.objects.filter(slug="bench").exists()


def test_seed_demo_gives_each_demo_account_its_team():
    seed()
    seed()  # twice: the teams are restored, not doubled

    past = Conference.objects.get(slug="growyourregion-2017")
    upcoming = Conference.objects.get(slug="growyourregion")
    staff = User.objects.get(email="staff@example.org")
    programme = User.objects.get(email="programme@example.org")
    organiser = User.objects.get(email="organiser@example.org")
    held = {
        (user.email, conference.slug, permission)
        for user in (staff, programme)
        for conference in (past, upcoming)
        for permission in PERMISSIONS
        if user_can(user, conference, permission)
    }
    assert held == {
        ("staff@example.org", "growyourregion", "can_view_registrations"),
        ("staff@example.org", "growyourregion", "can_export_attendees"),
        ("programme@example.org", "growyourregion", "can_edit_programme"),
    }
    assert all(user_can(organiser, past, permission) for permission in PERMISSIONS)
    assert Team.objects.filter(conferences=past).count() == 1
    assert Team.objects.count() == 4  # and the check-in desk (tests/checkin/test_demo.py)
