"""Own data and account deletion span every app (accounts.personal_data): each app's part
is erased, and the download holds each app's part."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts import personal_data
from agenda import stars
from checkin.models import BadgeRun
from outbox.emails import queue_email
from outbox.models import OutgoingEmail
from registration import services
from registration.models import Registration, RegistrationChange, User
from tests.factories import ConferenceFactory, PreEventFactory, RegistrationFactory, UserFactory
from tests.registration.test_services import emails_to, sign_up

pytestmark = pytest.mark.django_db

Status = Registration.Status
Action = RegistrationChange.Action


def test_every_app_with_personal_data_has_its_part():
    assert [part.name for part in personal_data.parts()] == ["stars", "registrations", "badges", "meetings"]
    assert personal_data.parts()[0].erase is stars.erase_stars
    assert personal_data.parts()[1].erase is services.erase_registrations


def test_delete_account_erases_the_person_and_keeps_the_numbers():
    conference = ConferenceFactory(capacity=1)
    workshop = PreEventFactory(conference=conference)
    past = ConferenceFactory(
        start_date=timezone.localdate() - dt.timedelta(days=400),
        registration_opens=timezone.now() - dt.timedelta(days=500),
        registration_closes=timezone.now() - dt.timedelta(days=401),
    )
    user = UserFactory(email="elzbieta@example.eu")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    attended = RegistrationFactory(conference=past, user=user, dietary_requirements="Vegetarian")
    current = sign_up(conference, user=user, sessions=[workshop], accessibility_needs="Wheelchair")
    waiting_user = UserFactory()
    waiting = sign_up(conference, user=waiting_user)
    services.update_details(current, details={"job_title": "Director"}, actor=user)

    personal_data.delete_account(user)

    assert not User.objects.filter(email="elzbieta@example.eu").exists()
    assert not EmailAddress.objects.filter(email="elzbieta@example.eu").exists()
    attended.refresh_from_db()
    current.refresh_from_db()
    for registration in (attended, current):
        assert registration.user is None
        assert (registration.given_name, registration.family_name, registration.organisation) == ("", "", "")
        assert (registration.job_title, registration.dietary_requirements, registration.accessibility_needs) == (
            "",
            "",
            "",
        )
        assert registration.country.code == "PL"
        assert registration.changes.last().action == Action.ANONYMISED
        assert all(change.details == {} for change in registration.changes.all())
    assert attended.status == Status.CONFIRMED
    assert (current.status, current.number) == (Status.CANCELLED, 1)
    assert not OutgoingEmail.objects.filter(to__iexact="elzbieta@example.eu").exists()
    waiting.refresh_from_db()
    assert waiting.status == Status.CONFIRMED
    assert len(emails_to(waiting_user, "promoted")) == 1


def personal_text(*values) -> str:
    return " ".join(str(value) for value in values).lower()


def test_delete_account_blanks_their_emails_and_keeps_them_counted():
    conference = ConferenceFactory()
    user = UserFactory(email="zofia@example.eu")
    EmailAddress.objects.create(user=user, email="Zofia.Old@Example.eu", verified=False, primary=False)
    registration = sign_up(conference, user=user, given_name="Zofia", family_name="Nowak", organisation="Klaster Zofii")
    (confirmation,) = emails_to(user, "confirmed")
    OutgoingEmail.objects.filter(pk=confirmation.pk).update(status=OutgoingEmail.Status.SENT, sent_at=timezone.now())
    account = queue_email(
        to="ZOFIA@example.eu",
        subject="Confirm your address, Zofia",
        body_text="Confirm zofia@example.eu",
        kind="account_email_confirmation",
        language="en",
    )
    old_address = queue_email(
        to="zofia.old@example.eu", subject="Hello Zofia", body_text="Hi", kind="account_password_reset", language="en"
    )
    refused = queue_email(
        to="zofia@example.eu", subject="Hello Zofia", body_text="Hi", kind="account_password_reset", language="en"
    )
    OutgoingEmail.objects.filter(pk=refused.pk).update(
        status=OutgoingEmail.Status.FAILED, last_error="Recipient refused: zofia@example.eu: 550 No such user"
    )
    report = queue_email(
        to="accessibility@example.org",
        subject="Accessibility problem reported",
        body_text="Zofia Nowak writes: the map has no text",
        kind="accessibility_report",
        language="en",
        reply_to="zofia@example.eu",
    )
    other = queue_email(
        to="jan@example.org", subject="Hello Jan", body_text="Hi", kind="account_password_reset", language="en"
    )
    kinds = sorted(OutgoingEmail.objects.values_list("kind", flat=True))

    personal_data.delete_account(user)

    assert sorted(OutgoingEmail.objects.values_list("kind", flat=True)) == kinds
    erased = OutgoingEmail.objects.exclude(pk=other.pk)
    assert erased.count() == 5
    for email in erased:
        assert (email.to, email.reply_to, email.subject, email.body_text, email.body_html, email.attachments) == (
            "",
            "",
            "",
            "",
            "",
            [],
        )
        text = personal_text(
            email.to, email.subject, email.body_text, email.body_html, email.attachments, email.last_error
        )
        assert "zofia" not in text
        assert "nowak" not in text
    statuses = dict(erased.values_list("pk", "status"))
    assert statuses == {
        confirmation.pk: "sent",
        account.pk: "failed",
        old_address.pk: "failed",
        refused.pk: "failed",
        report.pk: "failed",
    }
    assert OutgoingEmail.objects.get(pk=account.pk).last_error == "Not sent: the account was deleted."
    assert OutgoingEmail.objects.get(pk=refused.pk).last_error == ""
    assert set(erased.exclude(conference=None).values_list("conference", flat=True)) == {registration.conference_id}
    other.refresh_from_db()
    assert (other.to, other.subject, other.status) == ("jan@example.org", "Hello Jan", "queued")


def test_delete_account_leaves_no_personal_data_in_the_history_or_the_admin_log():
    conference = ConferenceFactory()
    organiser = UserFactory(is_staff=True)
    user = UserFactory(email="zofia@example.eu")
    registration = sign_up(conference, user=user, given_name="Zofia", family_name="Nowak", dietary_requirements="Vegan")
    services.update_details(registration, details={"family_name": "Nowak-Zofińska"}, actor=organiser)
    for obj in (registration, user):
        LogEntry.objects.create(
            user=organiser,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=CHANGE,
            change_message="[]",
        )
    user_id = user.pk

    personal_data.delete_account(user)

    history = RegistrationChange.objects.filter(registration=registration)
    assert list(history.values_list("action", flat=True)) == [
        Action.REGISTERED,
        Action.DETAILS_CHANGED,
        Action.CANCELLED,
        Action.ANONYMISED,
    ]
    assert [change.details for change in history] == [{}, {}, {}, {}]
    assert history.get(action=Action.DETAILS_CHANGED).actor == organiser
    log = dict(LogEntry.objects.values_list("content_type__model", "object_repr"))
    assert log == {"registration": f"#{registration.pk}", "user": f"#{user_id}"}


def test_delete_account_takes_the_badges_printed_with_their_name():
    registration = RegistrationFactory()
    printed = BadgeRun.objects.create(
        conference=registration.conference, layout="A4", registration_ids=[registration.pk], part_size=10
    )

    personal_data.delete_account(registration.user)

    assert not BadgeRun.objects.filter(pk=printed.pk).exists()
