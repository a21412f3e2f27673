"""Capacity under real concurrency: many attendees, each with their own HTTP session and
client address, submit at the same instant to the live server, whose threads each hold
their own database connection. Nothing here is serialised by the test."""

import html
import http.client
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count, Q
from django.db.models.signals import post_save
from django.test import Client
from django.urls import reverse

from agenda import services as agenda_services
from agenda.models import Conference, Session
from outbox.models import OutgoingEmail
from registration import selectors, services
from registration.models import Booking, ExportRecord, Registration, RegistrationChange
from registration.selectors import privacy_statement
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    PreEventFactory,
    RegistrationFactory,
    StaffFactory,
    UserFactory,
    attendee_details,
)

ATTENDEES = 50
PLACES = 10
Status = Registration.Status


class Browser:
    """One attendee's HTTP session against the live server, from an address of its own."""

    def __init__(self, base_url: str, user, address: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.address = address
        login = Client()
        login.force_login(user)
        self.cookies = {settings.SESSION_COOKIE_NAME: login.cookies[settings.SESSION_COOKIE_NAME].value}

    def request(self, method: str, path: str, fields: dict | None = None) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60, source_address=(self.address, 0))
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        body = None
        if fields is not None:
            body = urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def form_fields(self, path: str) -> dict:
        """GET a form page and return its hidden fields (the CSRF token, the privacy fingerprint)."""
        status, _headers, page = self.request("GET", path)
        assert status == 200, page
        return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))


def browsers(live_server, users) -> list[Browser]:
    return [Browser(live_server.url, user, f"127.0.1.{index + 2}") for index, user in enumerate(users)]


def all_at_once(browsers: list[Browser], act) -> list:
    """Run `act(browser, index)` for every browser, released together by a barrier."""
    barrier = threading.Barrier(len(browsers))

    def run(index: int):
        barrier.wait(timeout=60)
        return act(browsers[index], index)

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        return list(pool.map(run, range(len(browsers))))


# The bursts open some fifty database connections each: two at once in parallel test
# processes would pass PostgreSQL's default limit of 100, so they share one process.
pytestmark = [pytest.mark.xdist_group("bursts"), pytest.mark.slow]


def numbers_emailed(conference, kind: str) -> list[int]:
    """The numbers of the conference's registrations whose attendee got an email of `kind`."""
    emailed = OutgoingEmail.objects.filter(conference=conference, kind=kind).values("to")
    return sorted(conference.registrations.filter(user__email__in=emailed).values_list("number", flat=True))


@pytest.fixture(autouse=True)
def patient_lock_waits(monkeypatch):
    """Connections opened during these tests wait up to a minute for a row lock, not the
    production three seconds. Fifty requests queue for one conference row in one test
    server process, whose threads share one interpreter with the test: on a busy machine
    the last in the queue can wait longer than three seconds, and the answer would be a 503
    that says how fast the machine was, not whether the places were counted right."""
    options = connection.settings_dict["OPTIONS"]
    monkeypatch.setitem(options, "options", re.sub(r"lock_timeout=\w+", "lock_timeout=60s", options["options"]))


def check_capacity(conference: Conference) -> None:
    """The invariants a burst must leave behind; raises AssertionError naming the one broken."""
    registrations = Registration.objects.filter(conference=conference)
    confirmed = registrations.filter(status=Status.CONFIRMED).count()
    waiting = list(registrations.filter(status=Status.WAITLISTED).order_by("status_changed_at", "pk"))
    assert confirmed <= conference.capacity, f"over-booked: {confirmed} confirmed for {conference.capacity} places"
    assert not waiting or confirmed == conference.capacity, "people wait while places are free"
    numbers = sorted(registrations.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1)), "registration numbers are not 1..n"
    counters = Conference.objects.values_list(
        "last_registration_number", "confirmed_registrations", "waiting_registrations"
    ).get(pk=conference.pk)
    assert counters == (max(numbers, default=0), confirmed, len(waiting)), f"counters {counters} are not the counts"
    assert [r.number for r in waiting] == sorted(r.number for r in waiting), "waiting list out of arrival order"
    stray = Booking.objects.filter(session__conference=conference, status=Booking.Status.CONFIRMED).exclude(
        registration__status=Status.CONFIRMED
    )
    assert not stray.exists(), "a seat is held by a registration that is not confirmed"
    for session in selectors.bookable_sessions(conference).annotate(
        queued=Count(
            "bookings",
            filter=Q(bookings__status=Booking.Status.WAITLISTED, bookings__registration__status=Status.CONFIRMED),
        )
    ):
        assert session.seats_taken <= session.seats, f"over-booked: {session.seats_taken} seats of {session.seats}"
        assert not session.queued or session.seats_taken == session.seats, "people queue while seats are free"


def register_all(live_server, conference, users, *, sessions=()) -> list[tuple[int, str]]:
    path = reverse("registration:register", kwargs={"slug": conference.slug})
    mine = reverse("registration:mine", kwargs={"slug": conference.slug})
    attendees = browsers(live_server, users)
    forms = [attendee.form_fields(path) for attendee in attendees]

    def submit(attendee: Browser, index: int) -> tuple[int, str]:
        fields = {
            **forms[index],
            **attendee_details(),
            "pre_events": [session.pk for session in sessions],
            "privacy_agreed": "on",
        }
        status, headers, page = attendee.request("POST", path, fields)
        assert status == 302, page
        assert headers["Location"] == mine
        status, _headers, page = attendee.request("GET", mine)
        return status, page

    return [(status, html.unescape(page)) for status, page in all_at_once(attendees, submit)]


@pytest.mark.django_db(transaction=True)
def test_fifty_attendees_at_once_for_ten_places_get_ten_places_and_an_ordered_waiting_list(live_server):
    conference = ConferenceFactory(capacity=PLACES)
    users = UserFactory.create_batch(ATTENDEES)

    pages = register_all(live_server, conference, users)

    assert {status for status, _page in pages} == {200}
    check_capacity(conference)
    registrations = {r.user_id: r for r in Registration.objects.filter(conference=conference)}
    assert len(registrations) == ATTENDEES
    assert sum(r.status == Status.CONFIRMED for r in registrations.values()) == PLACES
    assert sum(r.status == Status.WAITLISTED for r in registrations.values()) == ATTENDEES - PLACES
    # Whoever got the lock first got the first number: places and positions follow it.
    for user, (_status, page) in zip(users, pages, strict=True):
        registration = registrations[user.pk]
        if registration.number <= PLACES:
            assert registration.status == Status.CONFIRMED
            assert f"Your registration number is {registration.number}." in page
        else:
            assert registration.status == Status.WAITLISTED
            assert selectors.waitlist_position(registration) == registration.number - PLACES
            assert f"at position {registration.number - PLACES}." in page
    assert OutgoingEmail.objects.filter(kind="confirmed").count() == PLACES
    assert OutgoingEmail.objects.filter(kind="waitlisted").count() == ATTENDEES - PLACES

    # Three people with a place cancel at the same instant: the first three waiting move in.
    leaving = [user for user in users if registrations[user.pk].number in (2, 5, 9)]
    cancel = reverse("registration:cancel", kwargs={"slug": conference.slug})
    leavers = browsers(live_server, leaving)
    tokens = [leaver.form_fields(cancel) for leaver in leavers]
    statuses = all_at_once(leavers, lambda leaver, index: leaver.request("POST", cancel, tokens[index])[0])

    assert statuses == [302, 302, 302]
    check_capacity(conference)
    promoted = Registration.objects.filter(conference=conference, changes__action="promoted")
    assert sorted(promoted.values_list("number", flat=True)) == [11, 12, 13]
    assert set(promoted.values_list("status", flat=True)) == {Status.CONFIRMED}
    assert numbers_emailed(conference, "promoted") == [11, 12, 13]
    for registration in Registration.objects.filter(conference=conference, status=Status.WAITLISTED):
        assert selectors.waitlist_position(registration) == registration.number - 13


@pytest.mark.django_db(transaction=True)
def test_one_attendee_submitting_from_five_tabs_at_once_is_registered_once(live_server):
    conference = ConferenceFactory(capacity=PLACES)
    attendee = UserFactory()
    path = reverse("registration:register", kwargs={"slug": conference.slug})
    tabs = browsers(live_server, [attendee] * 5)
    forms = [tab.form_fields(path) for tab in tabs]

    def submit(tab: Browser, index: int) -> tuple[int, str]:
        fields = {**forms[index], **attendee_details(), "privacy_agreed": "on"}
        status, _headers, page = tab.request("POST", path, fields)
        return status, html.unescape(page)

    answers = all_at_once(tabs, submit)

    # The first to take the conference's lock registers; the unique constraint refuses the
    # others, which are shown the registration made.
    assert sorted(status for status, _page in answers) == [302, 409, 409, 409, 409]
    registration = Registration.objects.get(conference=conference)
    for status, page in answers:
        if status == 409:
            assert "You are already registered" in page
            assert f"Your registration number is {registration.number}." in page
    check_capacity(conference)
    assert OutgoingEmail.objects.filter(conference=conference).count() == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_attendees_at_once_for_a_ten_seat_pre_event_get_ten_seats_and_an_ordered_queue(live_server):
    conference = ConferenceFactory(capacity=500)
    workshop = PreEventFactory(conference=conference, capacity=PLACES)
    users = UserFactory.create_batch(ATTENDEES)

    pages = register_all(live_server, conference, users, sessions=[workshop])

    assert {status for status, _page in pages} == {200}
    check_capacity(conference)
    bookings = {
        b.registration.user_id: b for b in Booking.objects.filter(session=workshop).select_related("registration")
    }
    assert len(bookings) == ATTENDEES
    for user, (_status, page) in zip(users, pages, strict=True):
        booking = bookings[user.pk]
        number = booking.registration.number
        assert booking.registration.status == Status.CONFIRMED
        if number <= PLACES:
            assert booking.status == Booking.Status.CONFIRMED
            assert "Seat confirmed" in page
        else:
            assert booking.status == Booking.Status.WAITLISTED
            assert selectors.booking_positions(booking.registration) == {booking.pk: number - PLACES}
            assert f"On its waiting list, at position {number - PLACES}" in page

    # Two seat holders drop the workshop, one cancels altogether, all at once.
    leaving = [user for user in users if bookings[user.pk].registration.number in (1, 4, 7)]
    change = reverse("registration:pre_events", kwargs={"slug": conference.slug})
    cancel = reverse("registration:cancel", kwargs={"slug": conference.slug})
    leavers = browsers(live_server, leaving)
    paths = [change, change, cancel]
    tokens = [leaver.form_fields(path) for leaver, path in zip(leavers, paths, strict=True)]
    statuses = all_at_once(leavers, lambda leaver, index: leaver.request("POST", paths[index], tokens[index])[0])

    assert statuses == [302, 302, 302]
    check_capacity(conference)
    seated = Booking.objects.filter(session=workshop, status=Booking.Status.CONFIRMED)
    assert sorted(seated.values_list("registration__number", flat=True)) == [2, 3, 5, 6, 8, 9, 10, 11, 12, 13]
    assert numbers_emailed(conference, "promoted") == [11, 12, 13]


@pytest.mark.django_db
def test_the_capacity_check_catches_an_over_booking():
    conference = ConferenceFactory(capacity=PLACES)
    for number in range(1, PLACES + 1):
        RegistrationFactory(conference=conference, number=number)
    check_capacity(conference)

    RegistrationFactory(conference=conference, number=PLACES + 1)

    with pytest.raises(AssertionError, match="over-booked: 11 confirmed for 10 places"):
        check_capacity(conference)


@pytest.mark.django_db
def test_the_capacity_check_catches_an_over_booked_pre_event():
    conference = ConferenceFactory(capacity=100)
    workshop = PreEventFactory(conference=conference, capacity=2)
    for number in (1, 2, 3):
        BookingFactory(session=workshop, registration__conference=conference, registration__number=number)

    with pytest.raises(AssertionError, match="over-booked: 3 seats of 2"):
        check_capacity(conference)


@pytest.mark.django_db
def test_the_capacity_check_catches_a_waiting_list_that_skipped_someone():
    conference = ConferenceFactory(capacity=1)
    RegistrationFactory(conference=conference, number=1)
    RegistrationFactory(conference=conference, number=3, status=Status.WAITLISTED)
    RegistrationFactory(conference=conference, number=2, status=Status.WAITLISTED)

    with pytest.raises(AssertionError, match="waiting list out of arrival order"):
        check_capacity(conference)


def backends_waiting_for_a_lock(pids: list[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid = ANY(%s)", [pids])
        return {pid for (pid,) in cursor.fetchall()}


def in_thread(work, errors: list, pids: list | None = None, *, name: str = "") -> threading.Thread:
    """`work()` on a connection of its own in a new thread; what it raises lands in `errors`,
    its database backend's pid in `pids`."""

    def run() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                if pids is not None:
                    pids.append(cursor.fetchone()[0])
            work()
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name or None)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_counters_on_the_conference_row_stay_the_real_counts_through_concurrent_registrations_and_cancellations():
    conference = ConferenceFactory(capacity=PLACES)
    stale = Conference.objects.get(pk=conference.pk)

    def sign_up(user) -> Registration:
        return services.register(
            user,
            conference,
            details=attendee_details(),
            session_ids=[],
            privacy_statement=privacy_statement(conference),
        )

    leaving = [sign_up(user) for user in UserFactory.create_batch(8)]
    newcomers = UserFactory.create_batch(20)
    errors = []
    barrier = threading.Barrier(len(leaving) + len(newcomers))

    def register(user) -> None:
        barrier.wait(timeout=60)
        sign_up(user)

    def cancel(registration) -> None:
        barrier.wait(timeout=60)
        services.cancel_registration(registration, actor=registration.user)

    threads = [in_thread(lambda user=user: register(user), errors) for user in newcomers]
    threads += [in_thread(lambda registration=registration: cancel(registration), errors) for registration in leaving]
    for thread in threads:
        thread.join(timeout=120)
    # A save from Python with counters read before all that leaves them alone.
    stale.name = "Renamed"
    stale.save()

    assert errors == []
    conference.refresh_from_db()
    assert (conference.name, conference.last_registration_number) == ("Renamed", 28)
    check_capacity(conference)
    assert conference.confirmed_registrations == PLACES
    assert conference.waiting_registrations == 28 - 8 - PLACES


@pytest.mark.django_db(transaction=True)
def test_organiser_raising_pre_event_seats_while_people_register_neither_deadlocks_nor_skips_anyone():
    conference = ConferenceFactory(capacity=100)
    workshop = PreEventFactory(conference=conference, capacity=1)

    def sign_up(user) -> Registration:
        return services.register(
            user,
            conference,
            details=attendee_details(),
            session_ids=[workshop.pk],
            privacy_statement=privacy_statement(conference),
        )

    holder, first, second = (sign_up(UserFactory()) for _ in range(3))
    newcomers = UserFactory.create_batch(2)
    errors, pids = [], []
    organiser_inside, organiser_may_go_on = threading.Event(), threading.Event()

    def organiser() -> None:
        edited = Session.objects.get(pk=workshop.pk)
        edited.capacity = 4
        agenda_services.save_session(edited)

    # Holds the organiser's transaction open just after the session row is written, until
    # both newcomers are waiting for a lock: the moment a wrong lock order deadlocks.
    def hold_the_organiser(sender, instance, **kwargs) -> None:
        if threading.current_thread().name == "organiser":
            organiser_inside.set()
            organiser_may_go_on.wait(timeout=60)

    post_save.connect(hold_the_organiser, sender=Session, dispatch_uid="test.hold_the_organiser")
    try:
        organiser_thread = in_thread(organiser, errors, name="organiser")
        assert organiser_inside.wait(timeout=30)
        registrants = [in_thread(lambda user=user: sign_up(user), errors, pids) for user in newcomers]
        deadline = time.monotonic() + 30
        while not errors and (len(pids) < 2 or backends_waiting_for_a_lock(pids) != set(pids)):
            assert time.monotonic() < deadline, "the registrations never waited for the organiser"
            time.sleep(0.05)
        organiser_may_go_on.set()
        for thread in [organiser_thread, *registrants]:
            thread.join(timeout=60)
    finally:
        organiser_may_go_on.set()
        post_save.disconnect(sender=Session, dispatch_uid="test.hold_the_organiser")

    assert errors == []
    check_capacity(conference)
    seated = Booking.objects.filter(session=workshop, status=Booking.Status.CONFIRMED)
    queued = Booking.objects.filter(session=workshop, status=Booking.Status.WAITLISTED)
    # The organiser went first: the two waiting got the new seats, then the first newcomer the last one.
    assert sorted(seated.values_list("registration__number", flat=True)) == [1, 2, 3, 4]
    assert list(queued.values_list("registration__number", flat=True)) == [5]
    assert numbers_emailed(conference, "promoted") == sorted([first.number, second.number])
    assert sorted(
        RegistrationChange.objects.filter(action=RegistrationChange.Action.BOOKING_PROMOTED).values_list(
            "registration", flat=True
        )
    ) == [first.pk, second.pk]
    assert holder.bookings.get().status == Booking.Status.CONFIRMED


@pytest.mark.django_db(transaction=True)
def test_a_staff_download_is_served_while_a_registration_holds_the_conference(client):
    """A registration holds the conference row until it commits. The download's export record
    refers to that row; it is written at once, not after the registration (or, past the lock
    timeout, never, with the busy page instead of the list)."""
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, given_name="Ana")
    client.force_login(StaffFactory(can_export=True))
    holding, finish = threading.Event(), threading.Event()

    def register_and_hold() -> None:
        try:
            with transaction.atomic():
                services.register(
                    UserFactory(),
                    conference,
                    details=attendee_details(),
                    session_ids=[],
                    privacy_statement=privacy_statement(conference),
                )
                holding.set()
                finish.wait(timeout=30)
        finally:
            connection.close()

    registering = threading.Thread(target=register_and_hold)
    registering.start()
    try:
        assert holding.wait(timeout=30)
        response = client.get(reverse("registration:attendees_csv", args=[conference.slug]))
        content = b"".join(response.streaming_content).decode("utf-8-sig") if response.streaming else ""
    finally:
        finish.set()
        registering.join()

    assert response.status_code == 200
    assert "Ana" in content
    assert ExportRecord.objects.get(conference=conference).rows == 1
    assert Registration.objects.filter(conference=conference).count() == 2
