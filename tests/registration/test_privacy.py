"""Retention and consent (registration.privacy): what each conference keeps, for how long,
its erasure by the periodic task, the organisers' warning, and consent per purpose."""

import datetime as dt
import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import formats, timezone

from checkin.models import BadgeRun, BadgeRunPart
from meetings.models import MeetingRequest
from outbox.emails import queue_email
from outbox.models import OutgoingEmail
from registration import messaging, privacy, selectors, services, tasks
from registration.forms import privacy_digest
from registration.models import CONSENT_TEXTS, Consent, ProgrammeFeed, Registration, RegistrationChange
from tests.factories import (
    ConferenceFactory,
    MeetingBlockFactory,
    PreEventFactory,
    ProfileFactory,
    RegistrationFactory,
    TeamFactory,
    UserFactory,
    VerifiedUserFactory,
    attendee_details,
)
from tests.registration.test_messaging import make_message
from tests.registration.test_services import sign_up

pytestmark = pytest.mark.django_db

Purpose = Consent.Purpose
Action = RegistrationChange.Action


def move_to_the_past(conference, *, ended_days_ago: int) -> None:
    """The conference as if it had ended `ended_days_ago` days ago (its last day the day before)."""
    end = timezone.localdate() - dt.timedelta(days=ended_days_ago + 1)
    conference.__class__.objects.filter(pk=conference.pk).update(start_date=end - dt.timedelta(days=1), end_date=end)
    conference.refresh_from_db()


def figures(conference) -> dict:
    """What the staff dashboard counts: by status, country, organisation type and pre-event."""
    return {
        "status": selectors.count_registrations_by_status(conference),
        "country": selectors.count_attendees_by_country(conference),
        "types": list(
            Registration.objects.filter(conference=conference)
            .order_by("organisation_type")
            .values_list("organisation_type", flat=True)
        ),
        "bookings": list(
            Registration.objects.filter(conference=conference)
            .order_by("pk")
            .values_list("bookings__session__code", "bookings__status")
        ),
    }


def local_date(conference, moment) -> str:
    return formats.date_format(timezone.localtime(moment, conference.tz), "DATE_FORMAT")


# Retention: the conference past its period, the task run, nothing personal left.


def test_the_task_erases_a_conference_past_its_period_and_keeps_the_figures():
    conference = ConferenceFactory(capacity=10)
    workshop = PreEventFactory(conference=conference)
    other_conference = ConferenceFactory()
    people = [VerifiedUserFactory(email=f"person{n}@example.eu") for n in range(3)]
    registrations = [
        sign_up(
            conference,
            user=user,
            sessions=[workshop],
            given_name=f"Given{n}",
            family_name=f"Family{n}",
            job_title=f"Job{n}",
            country=["PL", "ES", "PL"][n],
            organisation_type=["cluster", "sme", "cluster"][n],
            dietary_requirements="Halal",
            accessibility_needs="Wheelchair",
        )
        for n, user in enumerate(people)
    ]
    services.update_details(registrations[0], details={"job_title": "Director"}, actor=people[0])
    elsewhere = sign_up(other_conference, user=people[0], given_name="Kept")
    profile = ProfileFactory(registration=registrations[1], offer="Laser cutting")
    MeetingRequest.objects.create(
        block=MeetingBlockFactory(conference=conference),
        sender=profile,
        recipient=ProfileFactory(registration=registrations[2]),
        message="Hi",
        created_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=2),
    )
    ProgrammeFeed.objects.create(user=people[1], conference=conference, token="feed-token-1")
    queue_email(
        to=people[2].email,
        subject="For Given2",
        body_text="Dear Given2 Family2",
        kind="message:1",
        language="en",
        conference=conference,
    )
    LogEntry.objects.create(
        user=UserFactory(),
        content_type=ContentType.objects.get_for_model(Registration),
        object_id=str(registrations[0].pk),
        object_repr=str(registrations[0]),
        action_flag=CHANGE,
    )
    before = figures(conference)
    move_to_the_past(conference, ended_days_ago=400)  # the default period is a year

    # Three lost their answers, then the same three the rest.
    assert tasks.erase_personal_data() == 6

    for registration in Registration.objects.filter(conference=conference):
        assert registration.user is None
        assert registration.personal_data_erased_at is not None
        assert [getattr(registration, field) for field in services.PERSONAL_FIELDS] == [""] * 6
        assert all(change.details == {} for change in registration.changes.exclude(action=Action.ERASED))
        assert registration.changes.last().action == Action.ERASED
    assert figures(conference) == before
    profile.refresh_from_db()
    assert (profile.offer, profile.seek) == ("", "")
    assert list(MeetingRequest.objects.filter(sender=profile).values_list("message", flat=True)) == [""]
    assert not ProgrammeFeed.objects.filter(conference=conference).exists()
    email = OutgoingEmail.objects.get(kind="message:1")
    assert (email.to, email.subject, email.body_text) == ("", "", "")
    assert LogEntry.objects.get(object_id=str(registrations[0].pk)).object_repr == f"#{registrations[0].pk}"
    dump = json.dumps(
        list(Registration.objects.filter(conference=conference).values()), default=str, ensure_ascii=False
    )
    for registration in registrations:
        for word in (registration.given_name, registration.family_name, registration.job_title, "Halal", "Wheelchair"):
            assert word not in dump
    # The people's accounts and their other conference are theirs still.
    elsewhere.refresh_from_db()
    assert (elsewhere.user, elsewhere.given_name) == (people[0], "Kept")
    # Idempotent: a second run finds nothing to do.
    assert tasks.erase_personal_data() == 0


def test_nothing_is_erased_before_the_period_ends():
    conference = ConferenceFactory(personal_data_months=24)
    registration = sign_up(conference, given_name="Stays")
    move_to_the_past(conference, ended_days_ago=400)

    tasks.erase_personal_data()

    registration.refresh_from_db()
    assert registration.given_name == "Stays"
    assert registration.personal_data_erased_at is None


def test_the_erasure_goes_in_batches_each_its_own_transaction(monkeypatch):
    conference = ConferenceFactory()
    for _ in range(5):
        RegistrationFactory(conference=conference)
    move_to_the_past(conference, ended_days_ago=400)
    monkeypatch.setattr(privacy, "BATCH", 2)

    assert privacy.erase_personal_data(conference, limit=3) == 3
    assert Registration.objects.filter(conference=conference, personal_data_erased_at__isnull=True).count() == 2
    assert privacy.erase_personal_data(conference, limit=10) == 2


def test_dietary_and_accessibility_answers_go_right_after_the_event_and_the_rest_stays():
    conference = ConferenceFactory()
    user = UserFactory()
    registration = sign_up(conference, user=user, given_name="Ana", dietary_requirements="Kosher")
    services.update_details(
        registration, details={"accessibility_needs": "Sign language", "job_title": "Director"}, actor=user
    )
    move_to_the_past(conference, ended_days_ago=0)

    tasks.erase_personal_data()

    registration.refresh_from_db()
    assert (registration.dietary_requirements, registration.accessibility_needs) == ("", "")
    assert registration.given_name == "Ana"
    assert registration.personal_data_erased_at is None
    change = registration.changes.get(action=Action.DETAILS_CHANGED)
    assert change.details == {"job_title": ["Cluster manager", "Director"]}
    assert registration.changes.filter(action=Action.ANSWERS_ERASED).count() == 1
    tasks.erase_personal_data()
    assert registration.changes.filter(action=Action.ANSWERS_ERASED).count() == 1


def test_the_answers_wait_for_the_days_the_conference_keeps_them():
    conference = ConferenceFactory(sensitive_answers_days=7)
    registration = sign_up(conference, dietary_requirements="Kosher")
    move_to_the_past(conference, ended_days_ago=3)

    tasks.erase_personal_data()

    registration.refresh_from_db()
    assert registration.dietary_requirements == "Kosher"


# The organisers' warning, a month ahead, once.


def test_the_organisers_are_warned_once_a_month_ahead():
    conference = ConferenceFactory(name="Cluster Days")
    sign_up(conference)
    sign_up(conference)
    organiser = UserFactory(email="desk@example.eu")
    onlooker = UserFactory(email="programme@example.eu")
    TeamFactory(conferences=[conference], members=[organiser], can_change_registrations=True)
    TeamFactory(conferences=[conference], members=[onlooker], can_edit_programme=True)
    # A year after its end is 20 days away.
    move_to_the_past(conference, ended_days_ago=345)
    early = ConferenceFactory()
    sign_up(early)
    TeamFactory(conferences=[early], members=[organiser], can_change_registrations=True)
    move_to_the_past(early, ended_days_ago=300)  # 65 days ahead: too early

    tasks.erase_personal_data()
    tasks.erase_personal_data()

    warnings = OutgoingEmail.objects.filter(kind="retention_warning")
    assert [(email.to, email.conference) for email in warnings] == [("desk@example.eu", conference)]
    when = local_date(conference, conference.personal_data_erased_at)
    assert when in warnings[0].subject
    assert f"{when} (Europe/Madrid)" in warnings[0].body_text
    assert "the 2 registrations of Cluster Days" in warnings[0].body_text
    assert Registration.objects.filter(conference=conference, personal_data_erased_at__isnull=True).count() == 2


# The admin's overview.


def test_the_admin_shows_what_is_erased_when_to_those_who_see_registrations(client):
    conference = ConferenceFactory(name="Cluster Days", personal_data_months=6)
    sign_up(conference, dietary_requirements="Vegan")
    sign_up(conference)
    hidden = ConferenceFactory(name="Other Days")
    member = UserFactory(is_staff=True)
    TeamFactory(conferences=[conference], members=[member], can_view_registrations=True)
    client.force_login(member)

    response = client.get(reverse("admin:registration_conferenceretention_changelist"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Cluster Days" in page
    assert "Other Days" not in page
    assert f"{local_date(conference, conference.personal_data_erased_at)} (Europe/Madrid)" in page
    assert f"{local_date(conference, conference.sensitive_answers_erased_at)} (Europe/Madrid)" in page
    assert '<td class="field-answers_left">1</td>' in page
    assert '<td class="field-registrations_left">2</td>' in page
    assert hidden.name not in page


def test_the_admin_overview_is_refused_without_a_registrations_permission(client):
    conference = ConferenceFactory()
    member = UserFactory(is_staff=True)
    TeamFactory(conferences=[conference], members=[member], can_edit_programme=True)
    client.force_login(member)

    response = client.get(reverse("admin:registration_conferenceretention_changelist"))

    assert response.status_code == 403


# The statement quotes the real period.


def test_the_statement_on_the_form_quotes_the_conferences_own_dates(client):
    conference = ConferenceFactory(personal_data_months=18, sensitive_answers_days=2)
    client.force_login(UserFactory())
    day_after = conference.end_date + dt.timedelta(days=1)
    months_later = day_after.replace(
        year=day_after.year + (day_after.month + 17) // 12, month=(day_after.month + 17) % 12 + 1
    )

    page = client.get(reverse("registration:register", kwargs={"slug": conference.slug})).content.decode()

    erased = formats.date_format(months_later, "DATE_FORMAT")
    answers = formats.date_format(day_after + dt.timedelta(days=2), "DATE_FORMAT")
    assert f"Your details are erased on {erased} (Europe/Madrid)" in page
    assert f"dietary and accessibility answers on {answers}" in page


# Consent per purpose: its text and time, never pre-ticked, withdrawable with one click.


def register_through_the_form(client, conference, **consents) -> Registration:
    statement = selectors.privacy_statement(conference)
    data = {**attendee_details(), "privacy_agreed": "on", "privacy_digest": privacy_digest(statement), **consents}
    response = client.post(reverse("registration:register", kwargs={"slug": conference.slug}), data)
    assert response.status_code == 302, response.content.decode()
    return Registration.objects.get(conference=conference)


def test_the_form_asks_for_each_consent_unticked(client):
    conference = ConferenceFactory()
    client.force_login(UserFactory())

    page = client.get(reverse("registration:register", kwargs={"slug": conference.slug})).content.decode()

    for name in ("consent_photos", "consent_messages", "privacy_agreed"):
        field = page[page.index(f'name="{name}"') - 80 : page.index(f'name="{name}"') + 80]
        assert "checked" not in field
    assert str(CONSENT_TEXTS[Purpose.PHOTOS]) in page


def test_registering_records_each_consent_with_its_text_and_time(client):
    conference = ConferenceFactory()
    client.force_login(UserFactory())

    registration = register_through_the_form(client, conference, consent_messages="on")

    consents = {consent.purpose: consent for consent in registration.consents.all()}
    assert set(consents) == {Purpose.PRIVACY, Purpose.MESSAGES}
    assert consents[Purpose.PRIVACY].text == selectors.privacy_statement(conference)
    assert consents[Purpose.MESSAGES].text == str(CONSENT_TEXTS[Purpose.MESSAGES])
    assert all(timezone.now() - c.given_at < dt.timedelta(minutes=1) for c in consents.values())
    assert (registration.photo_opt_out, registration.essential_messages_only) == (True, False)
    assert registration.privacy_statement_agreed == selectors.privacy_statement(conference)


def test_without_consent_nobody_gets_optional_messages_or_appears_in_photos(client):
    conference = ConferenceFactory()
    client.force_login(UserFactory())

    registration = register_through_the_form(client, conference)

    assert (registration.photo_opt_out, registration.essential_messages_only) == (True, True)
    assert list(messaging.audience(make_message(conference))) == []
    assert list(messaging.audience(make_message(conference, essential=True))) == [registration]


def test_a_consent_is_withdrawn_with_one_click_and_the_messages_follow_it(client):
    conference = ConferenceFactory()
    client.force_login(UserFactory())
    registration = register_through_the_form(client, conference, consent_messages="on", consent_photos="on")
    assert list(messaging.audience(make_message(conference))) == [registration]
    url = reverse("registration:consent", kwargs={"slug": conference.slug, "purpose": Purpose.MESSAGES})

    response = client.post(url, {"action": "withdraw"})

    assert response.status_code == 302
    consent = registration.consents.get(purpose=Purpose.MESSAGES)
    assert consent.withdrawn_at is not None
    registration.refresh_from_db()
    assert registration.essential_messages_only is True
    assert registration.photo_opt_out is False
    assert list(messaging.audience(make_message(conference))) == []
    # Given again: a new record, the old one kept.
    client.post(url, {"action": "give"})
    assert registration.consents.filter(purpose=Purpose.MESSAGES).count() == 2
    assert list(messaging.audience(make_message(conference))) == [registration]


def test_my_registration_offers_a_withdraw_button_per_purpose(client):
    conference = ConferenceFactory()
    client.force_login(UserFactory())
    register_through_the_form(client, conference, consent_photos="on")

    page = client.get(reverse("registration:mine", kwargs={"slug": conference.slug})).content.decode()

    for purpose in (Purpose.PRIVACY, Purpose.PHOTOS):
        url = reverse("registration:consent", kwargs={"slug": conference.slug, "purpose": purpose})
        assert f'action="{url}"' in page
    assert "Withdraw my agreement" in page
    assert "You have not agreed to this." in page  # the optional messages
    assert "(Europe/Madrid)" in page


def test_withdrawing_the_privacy_agreement_cancels_and_erases_the_registration(client):
    conference = ConferenceFactory(capacity=1)
    user = UserFactory()
    client.force_login(user)
    registration = register_through_the_form(client, conference)
    waiting = sign_up(conference)
    url = reverse("registration:consent", kwargs={"slug": conference.slug, "purpose": Purpose.PRIVACY})

    response = client.post(url, {"action": "withdraw"})

    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert (registration.user, registration.given_name) == (None, "")
    assert registration.consents.get(purpose=Purpose.PRIVACY).withdrawn_at is not None
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CONFIRMED


def test_a_consent_request_without_a_known_action_is_refused_with_a_message(client):
    conference = ConferenceFactory()
    client.force_login(UserFactory())
    register_through_the_form(client, conference)
    base = {"slug": conference.slug}

    wrong_action = client.post(reverse("registration:consent", kwargs={**base, "purpose": "photos"}), {"action": "x"})
    unknown = client.post(reverse("registration:consent", kwargs={**base, "purpose": "lunch"}), {"action": "give"})

    assert wrong_action.status_code == 400
    assert "Choose to give or to withdraw" in wrong_action.content.decode()
    assert unknown.status_code == 404


def test_the_own_data_download_holds_the_consents(client):
    conference = ConferenceFactory()
    client.force_login(UserFactory())
    register_through_the_form(client, conference, consent_photos="on")

    data = json.loads(client.get(reverse("registration:export", kwargs={"slug": conference.slug})).content)

    consents = data["registrations"][0]["consents"]
    assert [(c["purpose"], c["withdrawn_at"]) for c in consents] == [("privacy", None), ("photos", None)]
    assert consents[1]["text"] == str(CONSENT_TEXTS[Purpose.PHOTOS])
    assert data["registrations"][0]["photos_and_streaming"] is True


def test_badges_printed_with_erased_people_go_with_them():
    conference = ConferenceFactory()
    erased = RegistrationFactory(conference=conference)
    other = ConferenceFactory()
    kept = RegistrationFactory(conference=other)
    printed = BadgeRun.objects.create(conference=conference, layout="A4", registration_ids=[erased.pk], part_size=10)
    BadgeRunPart.objects.create(run=printed, index=0, content=b"%PDF Elzbieta")
    elsewhere = BadgeRun.objects.create(conference=other, layout="A4", registration_ids=[kept.pk], part_size=10)
    move_to_the_past(conference, ended_days_ago=400)

    tasks.erase_personal_data()

    assert not BadgeRun.objects.filter(pk=printed.pk).exists()
    assert not BadgeRunPart.objects.filter(run_id=printed.pk).exists()
    assert BadgeRun.objects.filter(pk=elsewhere.pk).exists()
