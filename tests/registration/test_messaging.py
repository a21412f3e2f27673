import pytest

from checkin.models import CheckIn
from outbox.models import OutgoingEmail
from registration import messaging
from registration.messaging import MessageError
from registration.models import Message, Registration
from registration.tasks import queue_message
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    OrganiserFactory,
    PreEventFactory,
    RegistrationFactory,
)

pytestmark = pytest.mark.django_db

Status = Registration.Status


def make_message(conference, **fields) -> Message:
    values = {
        "statuses": [Status.CONFIRMED],
        "language": "en",
        "subject_en": "Room change for {conference}",
        "body_en": "Dear {given_name} {family_name}, the room changed. {my_registration_url}",
        **fields,
    }
    return Message.objects.create(conference=conference, **values)


def send(message: Message, actor=None) -> Message:
    messaging.start_sending(message.pk, actor=actor)
    queue_message(message_id=message.pk)
    message.refresh_from_db()
    return message


def recipients(message: Message) -> list[str]:
    return sorted(OutgoingEmail.objects.filter(kind=message.email_kind).values_list("to", flat=True))


def test_audience_by_status_is_one_conference_only():
    conference, other = ConferenceFactory(), ConferenceFactory()
    confirmed = RegistrationFactory(conference=conference)
    waiting = RegistrationFactory(conference=conference, status=Status.WAITLISTED)
    pending = RegistrationFactory(conference=conference, status=Status.PENDING)
    RegistrationFactory(conference=conference, status=Status.CANCELLED)
    RegistrationFactory(conference=other)

    message = make_message(conference, statuses=[Status.CONFIRMED, Status.PENDING, Status.CANCELLED])

    assert set(messaging.audience(message)) == {confirmed, pending}
    message.statuses = [Status.WAITLISTED]
    assert list(messaging.audience(message)) == [waiting]


def test_audience_by_pre_event_country_organisation_type_and_check_in():
    conference = ConferenceFactory()
    pre_event = PreEventFactory(conference=conference)
    booked = BookingFactory(registration__conference=conference, session=pre_event).registration
    booked_spanish = BookingFactory(
        registration__conference=conference,
        registration__country="ES",
        registration__organisation_type=Registration.OrganisationType.SME,
        session=pre_event,
    ).registration
    RegistrationFactory(conference=conference, country="ES")
    CheckIn.objects.create(registration=booked, day=conference.start_date)

    message = make_message(conference, pre_event=pre_event)
    assert set(messaging.audience(message)) == {booked, booked_spanish}
    message.countries = ["ES"]
    assert list(messaging.audience(message)) == [booked_spanish]
    message.countries, message.organisation_types = [], [Registration.OrganisationType.CLUSTER]
    assert list(messaging.audience(message)) == [booked]
    message.organisation_types, message.checked_in = [], Message.CheckedIn.NO
    assert list(messaging.audience(message)) == [booked_spanish]
    message.checked_in = Message.CheckedIn.YES
    assert list(messaging.audience(message)) == [booked]


def test_optional_messages_skip_those_who_want_essential_ones_only():
    conference = ConferenceFactory()
    everything = RegistrationFactory(conference=conference)
    essential_only = RegistrationFactory(conference=conference, essential_messages_only=True)

    assert list(messaging.audience(make_message(conference))) == [everything]
    assert set(messaging.audience(make_message(conference, essential=True))) == {everything, essential_only}


def test_the_preference_is_off_unless_asked_for():
    assert RegistrationFactory().essential_messages_only is False


def test_unknown_placeholders_are_named_once_each():
    assert messaging.unknown_placeholders("Hi {given_name} {name}, {name} {room}! { }") == ["name", "room"]


def test_placeholders_filled_and_escaped_in_html():
    conference = ConferenceFactory(name="Cluster & Co")
    registration = RegistrationFactory(
        conference=conference, given_name="<b>Marcel·la</b>", family_name="=HYPERLINK(1)"
    )

    message = send(make_message(conference))

    email = OutgoingEmail.objects.get(kind=message.email_kind)
    assert email.to == registration.user.email
    assert email.subject == "Room change for Cluster & Co"
    assert "Dear <b>Marcel·la</b> =HYPERLINK(1), the room changed." in email.body_text
    assert f"/{conference.slug}/my-registration/" in email.body_text
    assert "&lt;b&gt;Marcel·la&lt;/b&gt;" in email.body_html
    assert "<b>Marcel" not in email.body_html


def test_each_recipient_gets_it_in_their_language_or_the_original():
    conference = ConferenceFactory()
    english = RegistrationFactory(conference=conference, language="en")
    spanish = RegistrationFactory(conference=conference, language="es")
    german = RegistrationFactory(conference=conference, language="de")
    message = make_message(
        conference,
        language="es",
        subject_es="Cambio de sala",
        body_es="Hola {given_name}",
        subject_en="Room change",
        body_en="Hello {given_name}",
    )

    send(message)

    subjects = dict(OutgoingEmail.objects.filter(kind=message.email_kind).values_list("to", "subject"))
    languages = dict(OutgoingEmail.objects.filter(kind=message.email_kind).values_list("to", "language"))
    assert subjects == {
        english.user.email: "Room change",
        spanish.user.email: "Cambio de sala",
        german.user.email: "Cambio de sala",  # no German: the original
    }
    assert languages == {english.user.email: "en", spanish.user.email: "es", german.user.email: "de"}


def test_send_once_even_when_clicked_twice_and_the_task_runs_again():
    conference = ConferenceFactory()
    people = RegistrationFactory.create_batch(3, conference=conference)
    message = make_message(conference)
    organiser = OrganiserFactory()

    messaging.start_sending(message.pk, actor=organiser)
    with pytest.raises(MessageError, match="already been sent"):
        messaging.start_sending(message.pk, actor=organiser)
    queue_message(message_id=message.pk)
    queue_message(message_id=message.pk)

    message.refresh_from_db()
    assert message.state == Message.State.SENT
    assert message.recipient_count == 3
    assert message.sent_by == organiser
    assert recipients(message) == sorted(r.user.email for r in people)


def test_sending_resumes_after_the_last_batch_and_dedup_keeps_it_once():
    conference = ConferenceFactory()
    people = RegistrationFactory.create_batch(5, conference=conference)
    message = make_message(conference)
    messaging.start_sending(message.pk, actor=None)

    assert messaging.queue_batch(message.pk, size=2) == 2
    # A lost cursor (say, a restored backup) cannot send anyone a second copy.
    Message.objects.filter(pk=message.pk).update(queued_up_to=0)
    queue_message(message_id=message.pk)

    assert recipients(message) == sorted(r.user.email for r in people)
    assert Message.objects.get(pk=message.pk).state == Message.State.SENT


def test_queueing_wakes_the_outbox_workers_twice_not_once_per_email(broker_queue, django_capture_on_commit_callbacks):
    conference = ConferenceFactory()
    RegistrationFactory.create_batch(5, conference=conference)
    message = make_message(conference)
    messaging.start_sending(message.pk, actor=None)

    with django_capture_on_commit_callbacks(execute=True):
        while messaging.queue_batch(message.pk, size=2):
            pass

    assert OutgoingEmail.objects.filter(kind=message.email_kind, status=OutgoingEmail.Status.QUEUED).count() == 5
    # Once the first batch committed, and after the last: in between they claim each batch's rows.
    assert broker_queue() == [("outbox.deliver_emails", None)] * 2


def test_empty_audience_sends_nothing():
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, status=Status.WAITLISTED)
    message = make_message(conference)

    with pytest.raises(MessageError, match="Nobody is in this audience"):
        messaging.start_sending(message.pk, actor=None)

    message.refresh_from_db()
    assert message.state == Message.State.DRAFT
    assert not OutgoingEmail.objects.exists()


def test_a_changed_audience_asks_for_confirmation_again():
    conference = ConferenceFactory()
    RegistrationFactory.create_batch(2, conference=conference)
    message = make_message(conference)

    with pytest.raises(MessageError, match="now 2 people"):
        messaging.start_sending(message.pk, actor=None, expected=1)
    assert Message.objects.get(pk=message.pk).state == Message.State.DRAFT


def test_counts_come_from_the_outbox():
    conference = ConferenceFactory()
    RegistrationFactory.create_batch(3, conference=conference)
    message = send(make_message(conference))
    first, second, _third = OutgoingEmail.objects.filter(kind=message.email_kind).order_by("pk")
    OutgoingEmail.objects.filter(pk=first.pk).update(status=OutgoingEmail.Status.SENT)
    OutgoingEmail.objects.filter(pk=second.pk).update(status=OutgoingEmail.Status.FAILED)

    counted = Message.objects.with_counts().get(pk=message.pk)

    assert messaging.progress(counted) == {
        "state": "sent",
        "state_label": "Sent",
        "recipients": 3,
        "queued": 1,
        "sent": 1,
        "failed": 1,
    }


def test_a_test_send_to_an_empty_audience_uses_the_senders_address_for_a_name():
    organiser = OrganiserFactory(email="organiser@example.org")
    message = make_message(ConferenceFactory(), language="fr", subject_fr="Salle {given_name}", body_fr="Bonjour")

    messaging.send_test(message, user=organiser)

    email = OutgoingEmail.objects.get()
    assert (email.to, email.subject, email.language) == (
        "organiser@example.org",
        "[Test] Salle organiser@example.org",
        "fr",
    )
    assert Message.objects.get(pk=message.pk).state == Message.State.DRAFT
