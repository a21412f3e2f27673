import datetime as dt
import html
import re
import zoneinfo
from urllib.parse import urlencode

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail
from registration import selectors, services
from registration.models import Booking, Consent, Registration, RegistrationChange
from registration.notifications import notify
from registration.selectors import privacy_statement
from tests.emails import written
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    PreEventFactory,
    RegistrationFactory,
    TeamFactory,
    UserFactory,
    VerifiedUserFactory,
    attendee_details,
)

pytestmark = pytest.mark.django_db

Status = Registration.Status
Action = RegistrationChange.Action
CHANGELIST = reverse("admin:registration_registration_changelist")


@pytest.fixture
def organiser(client):
    user = UserFactory(email="organiser@example.org", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def change_url(registration) -> str:
    return reverse("admin:registration_registration_change", args=[registration.pk])


def sign_up(conference, *, sessions=(), **details) -> Registration:
    return services.register(
        UserFactory(),
        conference,
        details=attendee_details(**details),
        session_ids=[session.pk for session in sessions],
        privacy_statement=privacy_statement(conference),
    )


def act(client, action: str, registrations, **extra):
    return client.post(
        CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [r.pk for r in registrations], **extra}, follow=True
    )


def change_form_data(registration, **overrides) -> dict:
    data = {
        **attendee_details(
            given_name=registration.given_name,
            family_name=registration.family_name,
            organisation=registration.organisation,
        ),
        "pre_events": [str(pk) for pk in registration.bookings.values_list("session_id", flat=True)],
        "bookings-TOTAL_FORMS": "0",
        "bookings-INITIAL_FORMS": "0",
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
        **overrides,
    }
    return data


def test_list_shows_status_country_organisation_type_and_bookings(client, organiser):
    registration = RegistrationFactory(
        family_name="Bieńkowska", organisation="Klaster Lodz", user__email="ela@example.eu", country="PL"
    )
    BookingFactory(registration=registration, session__code="lab")

    page = text(client.get(CHANGELIST))

    assert "Elźbieta Bieńkowska" in page
    assert "ela@example.eu" in page
    assert "Confirmed" in page
    assert "Poland" in page
    assert "Cluster organisation" in page
    assert "lab (Confirmed)" in page


def test_list_takes_the_same_queries_for_one_and_many_registrations(client, organiser, django_assert_num_queries):
    conference = ConferenceFactory()
    BookingFactory(registration__conference=conference)
    client.get(CHANGELIST)  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get(CHANGELIST)
    for _ in range(20):
        BookingFactory(registration__conference=conference)

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(CHANGELIST)

    assert "21 registrations" in text(response)


@pytest.mark.parametrize("term", ["ela@example.eu", "Klaster", "Bieńkowska"])
def test_search_finds_by_email_organisation_and_name(client, organiser, term):
    RegistrationFactory(family_name="Bieńkowska", organisation="Klaster Lodz", user__email="ela@example.eu")
    RegistrationFactory(given_name="Jan", family_name="Nowak", organisation="Other", user__email="jan@example.eu")

    page = text(client.get(CHANGELIST, {"q": term}))

    assert "ela@example.eu" in page
    assert "jan@example.eu" not in page


def test_filters_by_status_and_pre_event(client, organiser):
    conference = ConferenceFactory()
    workshop = PreEventFactory(conference=conference, title="Smart specialisation lab")
    booked = RegistrationFactory(conference=conference, user__email="booked@example.eu")
    BookingFactory(registration=booked, session=workshop)
    RegistrationFactory(conference=conference, user__email="waiting@example.eu", status=Status.WAITLISTED)

    by_status = text(client.get(CHANGELIST, {"status__exact": "waitlisted"}))
    by_session = text(client.get(CHANGELIST, {"pre_event": workshop.pk}))

    assert "waiting@example.eu" in by_status
    assert "booked@example.eu" not in by_status
    assert "booked@example.eu" in by_session
    assert "waiting@example.eu" not in by_session
    assert "Smart specialisation lab" in by_session


def test_approve_in_bulk_confirms_in_order_while_places_last(client, organiser):
    conference = ConferenceFactory(requires_approval=True, capacity=2)
    first, second, third = (sign_up(conference) for _ in range(3))

    response = act(client, "approve", [third, second, first])

    statuses = [Registration.objects.get(pk=r.pk).status for r in (first, second, third)]
    assert statuses == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED]
    assert "3 registrations changed." in text(response)
    assert first.changes.get(action=Action.APPROVED).actor == organiser
    assert OutgoingEmail.objects.filter(kind="approved").count() == 2
    assert OutgoingEmail.objects.filter(kind="waitlisted", to=third.user.email).exists()


def test_approve_something_not_pending_warns_and_changes_nothing(client, organiser):
    registration = RegistrationFactory()

    response = act(client, "approve", [registration])

    assert "Only a registration pending approval can be approved." in text(response)
    assert not registration.changes.exists()


def test_reject_asks_for_a_reason_then_tells_each_attendee(client, organiser):
    conference = ConferenceFactory(requires_approval=True)
    registrations = [sign_up(conference) for _ in range(2)]

    question = act(client, "reject", registrations)
    missing = act(client, "reject", registrations, apply="1", reason="")
    done = act(client, "reject", registrations, apply="1", reason="The conference is for cluster managers.")

    assert "Reject these registrations?" in text(question)
    assert "Give the reason; it is sent to each attendee." in text(missing)
    assert "2 registrations changed." in text(done)
    for registration in registrations:
        registration.refresh_from_db()
        assert registration.status == Status.REJECTED
        assert (
            "cluster managers"
            in written(OutgoingEmail.objects.get(to=registration.user.email, kind="rejected")).body_text
        )


def test_cancel_asks_first_then_cancels_and_promotes(client, organiser):
    conference = ConferenceFactory(capacity=1)
    holder = sign_up(conference)
    waiting = sign_up(conference)

    question = act(client, "cancel", [holder])
    holder.refresh_from_db()
    assert holder.status == Status.CONFIRMED
    assert "Cancel these registrations?" in text(question)
    act(client, "cancel", [holder], apply="1")

    holder.refresh_from_db()
    waiting.refresh_from_db()
    assert holder.status == Status.CANCELLED
    assert holder.changes.get(action=Action.CANCELLED).actor == organiser
    assert waiting.status == Status.CONFIRMED


def test_move_up_keeps_the_selected_in_their_order_at_the_front(client, organiser):
    conference = ConferenceFactory(capacity=1)
    sign_up(conference)
    others = [sign_up(conference) for _ in range(2)]
    chosen = [sign_up(conference) for _ in range(2)]

    act(client, "move_up", chosen)

    positions = [selectors.waitlist_position(Registration.objects.get(pk=r.pk)) for r in (*chosen, *others)]
    assert positions == [1, 2, 3, 4]


def test_change_form_saves_details_through_the_history(client, organiser):
    registration = sign_up(ConferenceFactory(), job_title="Analyst")

    response = client.post(change_url(registration), change_form_data(registration, job_title="Director"), follow=True)

    registration.refresh_from_db()
    assert registration.job_title == "Director"
    change = registration.changes.get(action=Action.DETAILS_CHANGED)
    assert (change.actor, change.details) == (organiser, {"job_title": ["Analyst", "Director"]})
    assert "was changed successfully" in text(response)


def test_change_form_moves_a_seat_and_the_freed_one_goes_to_the_queue(client, organiser):
    conference = ConferenceFactory()
    morning = PreEventFactory(conference=conference, capacity=1)
    other = PreEventFactory(conference=conference, capacity=1, start=morning.start)
    registration = sign_up(conference, sessions=[morning])
    queued = sign_up(conference, sessions=[morning])

    client.post(change_url(registration), change_form_data(registration, pre_events=[str(other.pk)]))

    assert list(registration.bookings.values_list("session", "status")) == [(other.pk, "confirmed")]
    assert list(queued.bookings.values_list("session", "status")) == [(morning.pk, "confirmed")]
    assert registration.changes.get(action=Action.BOOKINGS_CHANGED).actor == organiser


def test_change_form_refuses_overlapping_pre_events_beside_the_field(client, organiser):
    conference = ConferenceFactory()
    morning = PreEventFactory(conference=conference, title="Smart specialisation lab")
    clash = PreEventFactory(conference=conference, title="Cluster excellence", start=morning.start)
    registration = sign_up(conference, job_title="Analyst")

    response = client.post(
        change_url(registration),
        change_form_data(registration, job_title="Director", pre_events=[str(morning.pk), str(clash.pk)]),
    )

    assert response.status_code == 200
    assert "run at the same time" in text(response)
    registration.refresh_from_db()
    assert registration.job_title == "Analyst"
    assert not Booking.objects.exists()


def test_a_cancelled_registration_is_shown_as_it_was(client, organiser):
    registration = RegistrationFactory(status=Status.CANCELLED, job_title="Analyst")

    page = client.get(change_url(registration))
    client.post(change_url(registration), change_form_data(registration, job_title="Director"))

    assert 'name="job_title"' not in page.content.decode()
    registration.refresh_from_db()
    assert registration.job_title == "Analyst"


def test_registrations_cannot_be_added_or_deleted_in_the_admin(client, organiser):
    registration = RegistrationFactory()

    assert client.get(reverse("admin:registration_registration_add")).status_code == 403
    assert client.post(reverse("admin:registration_registration_delete", args=[registration.pk])).status_code == 403
    assert Registration.objects.filter(pk=registration.pk).exists()


def test_history_is_listed_and_read_only(client, organiser):
    registration = sign_up(ConferenceFactory())
    change = registration.changes.get()

    listing = text(client.get(reverse("admin:registration_registrationchange_changelist")))
    edit = client.post(reverse("admin:registration_registrationchange_change", args=[change.pk]), {"action": "x"})

    assert "Registered" in listing
    assert edit.status_code == 403
    change.refresh_from_db()
    assert change.action == Action.REGISTERED


def test_resend_confirmation_action_renders_confirmation_anew(admin_client):
    registration = RegistrationFactory(family_name="Bieńkowska", conference__name="Cluster Days")
    cancelled = RegistrationFactory(status=Registration.Status.CANCELLED)

    response = admin_client.post(
        "/admin/registration/registration/",
        {"action": "resend_confirmation", "_selected_action": [registration.pk, cancelled.pk]},
        follow=True,
    )

    confirmation = written(OutgoingEmail.objects.get())
    assert (confirmation.to, confirmation.kind) == (registration.user.email, "confirmed")
    assert confirmation.subject == "Cluster Days: Your registration is confirmed"
    assert "1 confirmation queued." in response.content.decode()


@pytest.mark.parametrize("value", ["²", "١", "12x"])
def test_a_pre_event_filter_that_is_no_number_lists_everyone_instead_of_failing(client, organiser, value):
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, user__email="booked@example.eu")

    response = client.get(CHANGELIST, {"pre_event": value})
    with_conference = client.get(CHANGELIST, {"pre_event": value, "conference__id__exact": value})

    assert response.status_code == with_conference.status_code == 200
    assert "booked@example.eu" in text(response)


def test_admin_shows_times_in_each_conferences_zone_and_names_it(client, organiser):
    madrid = ConferenceFactory(timezone="Europe/Madrid")
    new_york = ConferenceFactory(timezone="America/New_York")
    moment = dt.datetime(2026, 12, 5, 1, 59, tzinfo=dt.UTC)
    in_madrid = RegistrationFactory(conference=madrid, family_name="Bieńkowska")
    RegistrationFactory(conference=new_york, family_name="Gil·labert")
    Registration.objects.update(created_at=moment, privacy_agreed_at=moment)
    RegistrationChange.objects.create(registration=in_madrid, action=Action.REGISTERED, details={})
    RegistrationChange.objects.update(created_at=moment)
    notify(in_madrid, "confirmed")
    OutgoingEmail.objects.update(created_at=moment)

    listing = text(client.get(CHANGELIST))
    detail = text(client.get(change_url(in_madrid)))
    history = text(client.get(reverse("admin:registration_registrationchange_changelist")))

    assert "5 December 2026, 02:59 (Europe/Madrid)" in listing
    assert "4 December 2026, 20:59 (America/New_York)" in listing
    assert "01:59" not in listing
    # The change page: its read-only times and its history's.
    assert detail.count("5 December 2026, 02:59 (Europe/Madrid)") == 2
    assert "5 December 2026, 02:59 (Europe/Madrid)" in history
    outgoing = text(client.get(reverse("admin:outbox_outgoingemail_changelist")))
    assert "5 December 2026, 02:59 (Europe/Madrid)" in outgoing


# 23:30 on the 5th in UTC, the server's zone: already the 6th in Madrid, still the 5th in New York.
LATE = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)


def test_a_consent_is_named_by_when_it_was_given_in_the_conference_zone(client, organiser):
    registration = RegistrationFactory(conference=ConferenceFactory(timezone="Europe/Madrid"))
    consent = Consent.objects.create(
        registration=registration, purpose=Consent.Purpose.PHOTOS, text="Photos may be taken.", given_at=LATE
    )

    page = text(client.get(change_url(registration)))

    assert str(consent) == "Photos and streaming, given on 6 December 2026, 00:30 (Europe/Madrid)"
    # The row's name and its time, both on Madrid's clock.
    assert page.count("6 December 2026, 00:30 (Europe/Madrid)") == 2


def test_the_registration_page_costs_the_same_queries_for_one_and_several_consents(client, organiser):
    one, several = RegistrationFactory.create_batch(2)
    for registration, purposes in ((one, ["privacy"]), (several, ["privacy", "photos", "messages"])):
        for purpose in purposes:
            Consent.objects.create(registration=registration, purpose=purpose, text="Agreed.")
    client.get(change_url(one))  # warm the session
    with CaptureQueriesContext(connection) as for_one:
        client.get(change_url(one))

    with CaptureQueriesContext(connection) as for_several:
        client.get(change_url(several))

    assert len(for_several.captured_queries) == len(for_one.captured_queries)


@pytest.fixture
def late_in_two_zones():
    """A registration at LATE in Madrid and one in New York."""
    madrid = ConferenceFactory(name="GROW Madrid", timezone="Europe/Madrid")
    new_york = ConferenceFactory(name="GROW New York", timezone="America/New_York")
    RegistrationFactory(conference=madrid, family_name="Bieńkowska")
    RegistrationFactory(conference=new_york, family_name="Gil·labert")
    Registration.objects.update(created_at=LATE)
    return madrid, new_york


def test_the_date_drill_down_of_one_conference_counts_its_days(client, organiser, late_in_two_zones):
    madrid, new_york = late_in_two_zones

    in_madrid = text(client.get(CHANGELIST, {"conference__id__exact": madrid.pk}))
    on_the_6th = text(
        client.get(
            CHANGELIST,
            {
                "conference__id__exact": madrid.pk,
                "created_at__year": 2026,
                "created_at__month": 12,
                "created_at__day": 6,
            },
        )
    )
    on_the_5th = text(
        client.get(
            CHANGELIST,
            {
                "conference__id__exact": new_york.pk,
                "created_at__year": 2026,
                "created_at__month": 12,
                "created_at__day": 5,
            },
        )
    )

    assert "Dates in the drill-down and the filters are days in Europe/Madrid." in in_madrid
    assert "Dates in the drill-down and the filters are days in Europe/Madrid. ‹ 2026 6 December" in in_madrid
    assert "Bieńkowska" in on_the_6th
    assert "Gil·labert" in on_the_5th


def test_the_date_drill_down_over_several_zones_says_it_counts_the_servers_days(client, organiser, late_in_two_zones):
    page = text(client.get(CHANGELIST, {"created_at__year": 2026, "created_at__month": 12, "created_at__day": 5}))

    assert (
        "These rows are of conferences in several time zones: dates in the drill-down and the filters are days in UTC."
        in page
    )
    assert "Bieńkowska" in page
    assert "Gil·labert" in page


def test_a_team_of_one_conference_gets_its_days_without_choosing_it(client, late_in_two_zones):
    madrid, _ = late_in_two_zones
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=[madrid], members=[user], can_view_registrations=True)
    client.force_login(user)
    history = reverse("admin:registration_registrationchange_changelist")
    RegistrationChange.objects.create(
        registration=Registration.objects.get(conference=madrid), action=Action.REGISTERED, details={}
    )
    RegistrationChange.objects.update(created_at=LATE)

    on_the_6th = text(client.get(history, {"created_at__year": 2026, "created_at__month": 12, "created_at__day": 6}))

    assert "Dates in the drill-down and the filters are days in Europe/Madrid." in on_the_6th
    assert "Bieńkowska" in on_the_6th


def test_the_date_filter_of_one_conference_starts_its_days_at_its_midnight(client, organiser, late_in_two_zones):
    madrid, _ = late_in_two_zones
    RegistrationChange.objects.create(
        registration=Registration.objects.get(conference=madrid), action=Action.REGISTERED, details={}
    )
    midnight = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo("Europe/Madrid")).replace(
        hour=0, minute=0, second=0, microsecond=0
    )

    page = client.get(
        reverse("admin:registration_registrationchange_changelist"), {"registration__conference__id__exact": madrid.pk}
    ).content.decode()

    # "Today" asks for what happened since midnight in Madrid: 00:00+01:00 (or +02:00 in summer).
    assert urlencode({"created_at__gte": str(midnight)}) in page


def test_an_empty_list_says_it_counts_the_servers_days(client, organiser):
    page = text(client.get(reverse("admin:registration_exportrecord_changelist")))

    assert "Dates in the drill-down and the filters are days in UTC." in page
    assert "several time zones" not in page
