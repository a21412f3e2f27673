"""The admin scoped to teams: a member of conference A, with conference B present, sees and
changes only A's programme, registrations, emails and export records, is offered only A's
choices, and gets a 403 or finds nothing (and nothing changes) when asking for B's."""

import html
import json
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.models import Conference, Session, Speaker
from outbox.emails import queue_email
from outbox.models import OutgoingEmail
from registration.models import ExportRecord, Registration, RegistrationChange, User
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    OrganiserFactory,
    RegistrationFactory,
    RoomFactory,
    SessionFactory,
    SpeakerFactory,
    TeamFactory,
    TrackFactory,
    VerifiedUserFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class Edition:
    conference: Conference
    speaker: Speaker
    session: Session
    registration: Registration
    email: OutgoingEmail


def edition(name: str, year: int) -> Edition:
    conference = ConferenceFactory(name=f"GROW your REGIOn {year}", slug=f"grow-{year}", requires_approval=True)
    RoomFactory(conference=conference, name=f"Room {name}")
    TrackFactory(conference=conference, name=f"Track {name}")
    speaker = SpeakerFactory(conference=conference, name="Ulla Engelmann", organisation=f"DG REGIO {year}")
    session = SessionFactory(conference=conference, title=f"Keynote {name}", room__name=f"Hall {name}")
    registration = RegistrationFactory(
        conference=conference, status=Registration.Status.PENDING, family_name=f"Attendee {name}"
    )
    BookingFactory(registration=registration, session__title=f"Pre-event {name}")
    RegistrationChange.objects.create(registration=registration, action=RegistrationChange.Action.REGISTERED)
    ExportRecord.objects.create(conference=conference, kind="attendees", user_email=f"exporter-{name}@example.org")
    email = queue_email(
        to=f"mail-{name}@example.org",
        subject=f"Mail {name}",
        body_text=".",
        kind="confirmed",
        language="en",
        conference=conference,
    )
    return Edition(conference, speaker, session, registration, email)


@pytest.fixture
def mine() -> Edition:
    return edition("mine", 2027)


@pytest.fixture
def other() -> Edition:
    return edition("other", 2017)


def member_client(client, conferences, **permissions) -> User:
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=conferences, members=[user], **permissions)
    client.force_login(user)
    return user


@pytest.fixture
def editor(client, mine, other):
    member_client(client, [mine.conference], can_edit_programme=True)
    return client


@pytest.fixture
def desk(client, mine, other):
    """Sees and changes registrations of `mine`."""
    member_client(client, [mine.conference], can_view_registrations=True, can_change_registrations=True)
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.content.decode())


# Lists -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "mine_text", "other_text"),
    [
        ("admin:agenda_conference_changelist", "GROW your REGIOn 2027", "GROW your REGIOn 2017"),
        ("admin:agenda_speaker_changelist", "DG REGIO 2027", "DG REGIO 2017"),
        ("admin:agenda_session_changelist", "Keynote mine", "Keynote other"),
    ],
)
def test_programme_lists_show_only_the_members_conference(editor, url, mine_text, other_text):
    listed = page(editor, reverse(url))

    assert mine_text in listed
    assert other_text not in listed


@pytest.mark.parametrize(
    ("url", "mine_text", "other_text"),
    [
        ("admin:registration_registration_changelist", "Attendee mine", "Attendee other"),
        ("admin:registration_booking_changelist", "Pre-event mine", "Pre-event other"),
        ("admin:registration_registrationchange_changelist", "Attendee mine", "Attendee other"),
        ("admin:outbox_outgoingemail_changelist", "mail-mine@example.org", "mail-other@example.org"),
    ],
)
def test_registration_lists_show_only_the_members_conference(desk, url, mine_text, other_text):
    listed = page(desk, reverse(url))

    assert mine_text in listed
    assert other_text not in listed


def test_export_records_show_only_the_exporters_conference(client, mine, other):
    member_client(client, [mine.conference], can_export_attendees=True)

    listed = page(client, reverse("admin:registration_exportrecord_changelist"))

    assert "exporter-mine@example.org" in listed
    assert "exporter-other@example.org" not in listed


def test_the_admin_index_lists_only_what_the_team_may_do(editor):
    index = page(editor, reverse("admin:index"))

    assert "/admin/agenda/session/" in index
    assert "/admin/registration/registration/" not in index
    assert "/admin/accounts/team/" not in index
    assert "/admin/registration/user/" not in index


# Filters ---------------------------------------------------------------------------------
def test_filters_offer_only_the_members_conferences_and_their_rooms(client, mine, other):
    third = edition("third", 2029)
    member_client(client, [mine.conference, third.conference], can_edit_programme=True)

    listed = page(client, reverse("admin:agenda_session_changelist"))

    assert f"conference__id__exact={mine.conference.pk}" in listed
    assert f"conference__id__exact={third.conference.pk}" in listed
    assert f"conference__id__exact={other.conference.pk}" not in listed
    for shown in ("Room mine", "Track mine", "Room third"):
        assert shown in listed
    for hidden in ("Room other", "Track other", "Hall other"):
        assert hidden not in listed


def test_a_filter_for_another_conference_finds_nothing(editor, other):
    listed = page(editor, f"{reverse('admin:agenda_session_changelist')}?conference__id__exact={other.conference.pk}")

    assert "Keynote other" not in listed


def test_registration_filters_offer_only_the_members_conferences(client, mine, other):
    third = edition("third", 2029)
    member_client(client, [mine.conference, third.conference], can_view_registrations=True)

    listed = page(client, reverse("admin:registration_registration_changelist"))

    assert f"conference__id__exact={mine.conference.pk}" in listed
    assert f"conference__id__exact={other.conference.pk}" not in listed
    assert "Pre-event mine" in listed
    assert "Pre-event other" not in listed


# Change pages ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "obj"),
    [
        ("admin:agenda_conference_change", lambda e: e.conference),
        ("admin:agenda_speaker_change", lambda e: e.speaker),
        ("admin:agenda_session_change", lambda e: e.session),
    ],
)
def test_another_conferences_programme_cannot_be_opened_or_changed(editor, other, name, obj):
    url = reverse(name, args=[obj(other).pk])

    opened = editor.get(url)
    posted = editor.post(url, {"name_en": "Changed", "title_en": "Changed", "name": "Changed"})

    # Django's admin says the object does not exist and goes back to the index.
    assert opened.status_code == posted.status_code == 302
    assert opened["Location"] == posted["Location"] == reverse("admin:index")
    other.conference.refresh_from_db()
    other.speaker.refresh_from_db()
    other.session.refresh_from_db()
    assert "Changed" not in (other.conference.name, other.speaker.name, other.session.title)


def test_the_desk_sees_a_registrations_bookings_and_history(desk, mine):
    form = page(desk, reverse("admin:registration_registration_change", args=[mine.registration.pk]))

    assert "Pre-event mine" in form
    assert 'name="changes-TOTAL_FORMS"' in form


def test_another_conferences_registration_cannot_be_opened(desk, other):
    response = desk.get(reverse("admin:registration_registration_change", args=[other.registration.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_the_members_session_form_offers_only_its_conferences_rooms_and_tracks(editor, mine):
    form = page(editor, reverse("admin:agenda_session_change", args=[mine.session.pk]))
    conference_form = page(editor, reverse("admin:agenda_conference_change", args=[mine.conference.pk]))

    # The inlines come with the form: the speakers, and the conference's rooms and tracks.
    assert 'name="session_speakers-TOTAL_FORMS"' in form
    assert 'name="rooms-TOTAL_FORMS"' in conference_form
    assert 'name="tracks-TOTAL_FORMS"' in conference_form

    for shown in ("Room mine", "Track mine"):
        assert shown in form
    for hidden in ("Room other", "Track other", "GROW your REGIOn 2017"):
        assert hidden not in form


def test_a_programme_editor_sees_no_registration(editor, mine):
    assert editor.get(reverse("admin:registration_registration_changelist")).status_code == 403
    assert editor.get(reverse("admin:registration_registration_change", args=[mine.registration.pk])).status_code == 403


def test_conferences_are_added_and_deleted_by_superusers_only(editor, mine):
    assert editor.get(reverse("admin:agenda_conference_add")).status_code == 403
    assert (
        editor.post(reverse("admin:agenda_conference_delete", args=[mine.conference.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Conference.objects.filter(pk=mine.conference.pk).exists()


# Add -------------------------------------------------------------------------------------
def test_adding_a_session_goes_straight_to_the_members_only_conference(editor, mine):
    response = editor.get(reverse("admin:agenda_session_add"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:agenda_session_add')}?conference={mine.conference.pk}"
    form = page(editor, response["Location"])
    assert "GROW your REGIOn 2027" in form
    assert "GROW your REGIOn 2017" not in form


def test_adding_a_session_to_another_conference_is_refused(editor, other):
    url = f"{reverse('admin:agenda_session_add')}?conference={other.conference.pk}"

    assert editor.get(url).status_code == 403
    assert editor.post(url, {"conference": other.conference.pk, "title_en": "Smuggled"}).status_code == 403
    assert not Session.objects.filter(title="Smuggled").exists()


def test_adding_a_speaker_offers_only_the_members_conference(editor, mine, other):
    form = page(editor, reverse("admin:agenda_speaker_add"))
    assert f'<option value="{mine.conference.pk}"' in form
    assert f'<option value="{other.conference.pk}"' not in form

    response = editor.post(
        reverse("admin:agenda_speaker_add"), {"conference": other.conference.pk, "name": "Smuggled", "code": "smuggled"}
    )

    assert response.status_code == 200  # the form again, with its error
    assert not Speaker.objects.filter(name="Smuggled").exists()


# Autocomplete ----------------------------------------------------------------------------
def autocomplete(client, **params) -> tuple[int, list[str]]:
    query = {"term": "Ulla", "app_label": "agenda", "model_name": "sessionspeaker", "field_name": "speaker", **params}
    response = client.get(f"{reverse('admin:autocomplete')}?{urlencode(query)}")
    results = json.loads(response.content)["results"] if response.status_code == 200 else []
    return response.status_code, [result["id"] for result in results]


def test_the_speaker_autocomplete_offers_only_the_members_speakers(editor, mine, other):
    assert autocomplete(editor, conference=mine.conference.pk) == (200, [str(mine.speaker.pk)])
    assert autocomplete(editor) == (200, [str(mine.speaker.pk)])
    assert autocomplete(editor, conference=other.conference.pk) == (200, [])


def test_the_speaker_autocomplete_is_refused_to_a_desk(desk, mine):
    assert autocomplete(desk, conference=mine.conference.pk)[0] == 403


# Actions ---------------------------------------------------------------------------------
def act(client, changelist: str, action: str, objects, **extra):
    return client.post(
        reverse(changelist), {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects], **extra}
    )


def status(registration: Registration) -> str:
    return Registration.objects.get(pk=registration.pk).status


def test_approving_another_conferences_registration_changes_nothing(desk, other):
    act(desk, "admin:registration_registration_changelist", "approve", [other.registration])

    assert status(other.registration) == Registration.Status.PENDING


def test_a_selection_reaching_beyond_the_change_permission_is_refused_whole(client, mine, other):
    """Sees both conferences' registrations, may change only one's: a crafted selection of
    both is a 403, and neither changes."""
    user = member_client(client, [mine.conference], can_view_registrations=True, can_change_registrations=True)
    TeamFactory(conferences=[other.conference], members=[user], can_view_registrations=True)

    response = act(
        client, "admin:registration_registration_changelist", "approve", [mine.registration, other.registration]
    )

    assert response.status_code == 403
    assert status(mine.registration) == status(other.registration) == Registration.Status.PENDING


def test_the_members_own_registration_is_approved(desk, mine):
    act(desk, "admin:registration_registration_changelist", "approve", [mine.registration])

    assert status(mine.registration) == Registration.Status.CONFIRMED


def test_who_may_only_see_registrations_is_offered_no_action_and_cannot_post_one(client, mine, other):
    member_client(client, [mine.conference], can_view_registrations=True)

    listed = page(client, reverse("admin:registration_registration_changelist"))
    act(client, "admin:registration_registration_changelist", "approve", [mine.registration])

    assert 'value="approve"' not in listed
    assert 'value="export_selected"' not in listed
    assert status(mine.registration) == Registration.Status.PENDING


def test_the_export_action_needs_the_export_permission_of_the_conference(client, mine, other):
    user = member_client(client, [mine.conference], can_view_registrations=True, can_export_attendees=True)
    TeamFactory(conferences=[other.conference], members=[user], can_view_registrations=True)

    refused = act(client, "admin:registration_registration_changelist", "export_selected", [other.registration])
    exported = act(client, "admin:registration_registration_changelist", "export_selected", [mine.registration])

    assert refused.status_code == 403
    assert exported.status_code == 200
    assert "Attendee mine" in b"".join(exported.streaming_content).decode("utf-8-sig")
    assert list(ExportRecord.objects.filter(kind="selection").values_list("conference", flat=True)) == [
        mine.conference.pk
    ]


def test_the_session_actions_leave_another_conference_alone(editor, other):
    before = Session.objects.filter(conference=other.conference).count()

    act(editor, "admin:agenda_session_changelist", "duplicate", [other.session])
    act(editor, "admin:agenda_session_changelist", "cancel", [other.session])

    assert Session.objects.filter(conference=other.conference).count() == before
    assert Session.objects.get(pk=other.session.pk).status == other.session.status


def test_resending_another_conferences_email_queues_nothing(desk, other):
    OutgoingEmail.objects.filter(pk=other.email.pk).update(status=OutgoingEmail.Status.SENT)
    before = OutgoingEmail.objects.count()

    act(desk, "admin:outbox_outgoingemail_changelist", "resend", [other.email])

    assert OutgoingEmail.objects.count() == before


# Superusers ------------------------------------------------------------------------------
def test_a_superuser_sees_every_conference(client, mine, other):
    client.force_login(OrganiserFactory())

    listed = page(client, reverse("admin:agenda_session_changelist"))

    assert "Keynote mine" in listed
    assert "Keynote other" in listed


def test_a_superuser_adding_a_session_chooses_the_conference_first(client, mine, other):
    client.force_login(OrganiserFactory())

    chooser = page(client, reverse("admin:agenda_session_add"))

    assert f'href="?conference={mine.conference.pk}"' in chooser
    assert f'href="?conference={other.conference.pk}"' in chooser
    assert 'name="session_speakers-0-speaker"' not in chooser


# Queries ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "admin:agenda_session_changelist",
        "admin:agenda_speaker_changelist",
        "admin:registration_registration_changelist",
        "admin:registration_booking_changelist",
        "admin:outbox_outgoingemail_changelist",
    ],
)
def test_a_members_lists_take_the_same_queries_for_more_objects(client, mine, other, url):
    member_client(
        client, [mine.conference], can_edit_programme=True, can_view_registrations=True, can_change_registrations=True
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(url)).status_code == 200
        return len(captured)

    before = queries()
    for n in range(5):
        SpeakerFactory(conference=mine.conference)
        BookingFactory(registration__conference=mine.conference, session=SessionFactory(conference=mine.conference))
        queue_email(
            to=f"more-{n}@example.org",
            subject="More",
            body_text=".",
            kind="confirmed",
            language="en",
            conference=mine.conference,
        )

    assert queries() == before


# History ---------------------------------------------------------------------------------
def test_the_admin_history_names_who_changed_what_in_which_conference(editor, mine):
    url = reverse("admin:agenda_speaker_change", args=[mine.speaker.pk])
    data = {
        "conference": mine.conference.pk,
        "name": "Ulla Engelmann",
        "code": mine.speaker.code,
        "title_en": "Director-General",
        "organisation": "DG GROW",
        "country": "",
        "biography_en": "",
    }

    response = editor.post(url, data)

    assert response.status_code == 302, html.unescape(response.content.decode())[:3000]
    entry = LogEntry.objects.get()
    assert entry.object_repr == "Ulla Engelmann (GROW your REGIOn 2027)"
    assert entry.user == response.wsgi_request.user
    assert "Ulla Engelmann (GROW your REGIOn 2027)" in page(editor, reverse("admin:index"))  # recent actions


def test_a_member_views_an_email_of_the_conference_but_never_edits_or_adds_one(desk, mine):
    url = reverse("admin:outbox_outgoingemail_change", args=[mine.email.pk])

    shown = page(desk, url)
    posted = desk.post(url, {"to": "changed@example.org", "subject": "Changed"})

    assert "mail-mine@example.org" in shown
    assert 'name="_save"' not in shown
    assert posted.status_code == 403
    assert OutgoingEmail.objects.get(pk=mine.email.pk).to == "mail-mine@example.org"
    assert desk.get(reverse("admin:outbox_outgoingemail_add")).status_code == 403
