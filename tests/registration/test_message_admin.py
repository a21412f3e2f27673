import html
import re

import pytest
from django.urls import reverse

from outbox.models import OutgoingEmail
from registration.models import Message, Registration
from registration.tasks import queue_message
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    OrganiserFactory,
    PreEventFactory,
    RegistrationFactory,
    StaffFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

ADD = reverse("admin:registration_message_add")
CHANGELIST = reverse("admin:registration_message_changelist")


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def form_data(conference, **overrides) -> dict:
    return {
        "conference": conference.pk,
        "statuses": ["confirmed"],
        "language": "en",
        "subject_en": "Bring your ID",
        "body_en": "Dear {given_name}, bring your ID to {conference}.",
        **{f"{part}_{code}": "" for code in ("es", "fr", "de") for part in ("subject", "body")},
        **overrides,
    }


def url(name: str, message: Message) -> str:
    return reverse(f"admin:registration_message_{name}", args=[message.pk])


@pytest.fixture
def organiser(client):
    user = OrganiserFactory()
    client.force_login(user)
    return user


def test_organiser_composes_a_message(client, organiser):
    conference = ConferenceFactory()

    response = client.post(ADD, form_data(conference, subject_es="Traiga su DNI", body_es="Hola {given_name}"))

    message = Message.objects.get()
    assert response.status_code == 302
    assert message.created_by == organiser
    assert message.state == Message.State.DRAFT
    assert message.statuses == ["confirmed"]
    assert message.text_in("es") == ("Traiga su DNI", "Hola {given_name}")
    assert message.text_in("fr") == ("Bring your ID", "Dear {given_name}, bring your ID to {conference}.")


def test_unknown_placeholders_are_refused_at_save(client, organiser):
    conference = ConferenceFactory()

    response = client.post(ADD, form_data(conference, body_en="Dear {name}, see you in {room} or {name}."))

    assert response.status_code == 200
    assert "{name}, {room} are not placeholders. The placeholders are {given_name}, {family_name}" in text(response)
    assert not Message.objects.exists()


def test_a_translation_needs_both_subject_and_body_and_the_original_is_required(client, organiser):
    conference = ConferenceFactory()

    response = client.post(ADD, form_data(conference, language="fr", subject_de="Ausweis"))

    page = text(response)
    assert "Write the subject and the message in the language it is written in (French)." in page
    assert "Give both the subject and the message in German, or neither." in page
    assert not Message.objects.exists()


def test_another_conferences_pre_event_is_refused(client, organiser):
    conference, other = ConferenceFactory(), ConferenceFactory()

    response = client.post(ADD, form_data(conference, pre_event=PreEventFactory(conference=other).pk))

    assert "Choose a pre-event of the conference the message goes to." in text(response)
    assert not Message.objects.exists()


def test_preview_fills_in_one_recipient_and_test_send_goes_to_oneself(client, organiser):
    conference = ConferenceFactory(name="Cluster Days")
    RegistrationFactory(conference=conference, given_name="Marcel·la", language="en")
    client.post(ADD, form_data(conference))
    message = Message.objects.get()

    preview = client.get(url("preview", message))
    assert "Dear Marcel·la, bring your ID to Cluster Days." in text(preview)

    response = client.post(url("preview", message))
    assert response.status_code == 302
    test_copy = OutgoingEmail.objects.get()
    assert test_copy.to == organiser.email
    assert test_copy.subject == "[Test] Bring your ID"
    assert test_copy.kind == "message_test"
    assert Message.objects.get().state == Message.State.DRAFT


def test_send_says_how_many_then_sends_once(client, organiser, django_capture_on_commit_callbacks):
    conference = ConferenceFactory()
    pre_event = PreEventFactory(conference=conference)
    booked = [BookingFactory(registration__conference=conference, session=pre_event).registration for _ in range(2)]
    RegistrationFactory(conference=conference)
    client.post(ADD, form_data(conference, pre_event=pre_event.pk))
    message = Message.objects.get()

    confirmation = client.get(url("send", message))
    assert "will be emailed to 2 people of" in text(confirmation)

    with django_capture_on_commit_callbacks():
        first = client.post(url("send", message), {"count": "2"})
    second = client.post(url("send", message), {"count": "2"})
    queue_message(message_id=message.pk)

    assert first.status_code == second.status_code == 302
    assert "already been sent" in text(client.get(second.url))
    assert sorted(OutgoingEmail.objects.values_list("to", flat=True)) == sorted(r.user.email for r in booked)
    message.refresh_from_db()
    assert (message.state, message.recipient_count, message.sent_by) == (Message.State.SENT, 2, organiser)


def test_empty_audience_is_told_and_nothing_sent(client, organiser):
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, status=Registration.Status.WAITLISTED)
    client.post(ADD, form_data(conference))
    message = Message.objects.get()

    assert "Nobody is in this audience: nothing can be sent." in text(client.get(url("send", message)))
    response = client.post(url("send", message), {"count": "0"}, follow=True)

    assert "Nobody is in this audience; nothing was sent." in text(response)
    assert Message.objects.get().state == Message.State.DRAFT
    assert not OutgoingEmail.objects.exists()


def test_progress_page_and_json(client, organiser):
    conference = ConferenceFactory()
    RegistrationFactory.create_batch(2, conference=conference)
    client.post(ADD, form_data(conference))
    message = Message.objects.get()
    client.post(url("send", message), {"count": "2"})
    queue_message(message_id=message.pk)
    OutgoingEmail.objects.filter(pk=OutgoingEmail.objects.first().pk).update(status=OutgoingEmail.Status.SENT)

    progress = client.get(url("progress", message)).json()
    page = client.get(url("change", message))

    assert progress == {"state": "sent", "state_label": "Sent", "recipients": 2, "queued": 1, "sent": 1, "failed": 0}
    assert "Recipients: 2 · Waiting to be sent: 1 · Sent: 1 · Failed: 0" in text(page)
    assert url("progress", message) in page.content.decode()
    # Sent is history: it cannot be edited any more.
    assert 'name="subject_en"' not in page.content.decode()


def test_team_member_with_the_permission_sees_only_their_conferences(client):
    mine, other = ConferenceFactory(), ConferenceFactory()
    member = StaffFactory()
    TeamFactory(conferences=[mine], members=[member], can_message_attendees=True)
    theirs = Message.objects.create(conference=other, statuses=["confirmed"], subject_en="x", body_en="y")
    client.force_login(member)

    form = client.get(ADD)
    refused = client.post(ADD, form_data(other))

    assert mine.name in text(form)
    assert other.name not in text(form)
    assert "is not one of the options; choose one from the list." in text(refused)
    assert Message.objects.count() == 1
    # The admin's own page sends back to the index ("does not exist"); ours answer 404.
    assert client.get(url("change", theirs)).url == reverse("admin:index")
    for name in ("preview", "send", "progress"):
        assert client.get(url(name, theirs)).status_code == 404
    assert client.post(url("send", theirs), {"count": "1"}).status_code == 404
    assert Message.objects.get().state == Message.State.DRAFT


def test_staff_without_the_permission_cannot_message(client):
    conference = ConferenceFactory()
    member = StaffFactory()
    TeamFactory(conferences=[conference], members=[member], can_view_registrations=True)
    client.force_login(member)

    assert client.get(ADD).status_code == 403
    assert client.get(CHANGELIST).status_code == 403


def test_changelist_queries_do_not_grow(client, organiser, django_assert_num_queries):
    conference = ConferenceFactory()
    Message.objects.create(conference=conference, statuses=["confirmed"], subject_en="x", body_en="y")
    with django_assert_num_queries(5) as captured:
        client.get(CHANGELIST)
    for n in range(20):
        Message.objects.create(conference=conference, statuses=["confirmed"], subject_en=f"x{n}", body_en="y")
    with django_assert_num_queries(len(captured.captured_queries)):
        client.get(CHANGELIST)


def test_carry_on_sending_hands_a_stuck_message_back_to_the_workers(client, organiser, broker_queue):
    conference = ConferenceFactory()
    stuck = Message.objects.create(
        conference=conference, statuses=["confirmed"], subject_en="x", body_en="y", state=Message.State.SENDING
    )
    draft = Message.objects.create(conference=conference, statuses=["confirmed"], subject_en="x", body_en="y")

    response = client.post(
        CHANGELIST, {"action": "carry_on_sending", "_selected_action": [stuck.pk, draft.pk]}, follow=True
    )

    assert "1 message handed to the workers." in text(response)
    assert broker_queue() == [("registration.queue_message", None)]


def test_progress_queries_do_not_grow_with_recipients(client, organiser, django_assert_num_queries):
    def sent_to(people: int) -> Message:
        conference = ConferenceFactory()
        RegistrationFactory.create_batch(people, conference=conference)
        message = Message.objects.create(conference=conference, statuses=["confirmed"], subject_en="x", body_en="y")
        client.post(url("send", message), {"count": str(people)})
        queue_message(message_id=message.pk)
        return message

    one, many = sent_to(1), sent_to(25)
    # The user, then the message with its three counts in one query.
    with django_assert_num_queries(2) as captured:
        assert client.get(url("progress", one)).json()["queued"] == 1
    with django_assert_num_queries(len(captured.captured_queries)):
        assert client.get(url("progress", many)).json()["queued"] == 25
