import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import Meeting, MeetingRequest, Profile, Sector, Theme
from outbox.models import OutgoingEmail
from registration.models import Registration
from tests.factories import (
    ConferenceFactory,
    MeetingBlockFactory,
    ProfileFactory,
    RegistrationFactory,
    TeamFactory,
    VerifiedUserFactory,
)

pytestmark = pytest.mark.django_db


def url(name: str, conference, **kwargs) -> str:
    return reverse(f"meetings:{name}", kwargs={"slug": conference.slug, **kwargs})


def logged_in(client, profile_or_user):
    client.force_login(getattr(getattr(profile_or_user, "registration", None), "user", profile_or_user))
    return client


def test_a_confirmed_attendee_opts_in_with_a_profile(client, conference):
    registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory())
    sector = Sector.objects.create(conference=conference, name="Advanced manufacturing")
    theme = Theme.objects.create(conference=conference, name="Industry 4.0")
    other_sector = Sector.objects.create(conference=ConferenceFactory(), name="Agrifood")
    logged_in(client, registration.user)

    page = client.get(url("home", conference))
    assert "Opt in and fill in your profile" in page.content.decode()

    refused = client.post(url("profile", conference), {"offer": "Laser know-how", "sectors": [other_sector.pk]})
    assert refused.status_code == 400
    assert "Tick the box to take part" in refused.content.decode()
    assert not Profile.objects.exists()

    response = client.post(
        url("profile", conference),
        {
            "consent": "on",
            "offer": '=HYPERLINK("http://evil")',
            "seek": "Partners in Valencia",
            "languages": "Polski, English",
            "sectors": [sector.pk],
            "themes": [theme.pk],
        },
    )

    assert response.status_code == 302
    profile = Profile.objects.get()
    assert profile.opted_in
    assert profile.offer.startswith("=HYPERLINK")
    assert list(profile.sectors.all()) == [sector]


def test_a_profile_takes_any_visible_text_and_refuses_hidden_characters_saying_why(client, conference):
    registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory())
    logged_in(client, registration.user)
    profile = {"consent": "on", "offer": "Cold chain < 4°C for Łódź Region® — R&D", "languages": "Català·Polski"}

    refused = client.post(url("profile", conference), {**profile, "seek": "Partners\u200b in Valencia"})
    accepted = client.post(url("profile", conference), {**profile, "seek": "Partners in Valencia 🤝"})

    assert refused.status_code == 400
    assert "Leave out invisible characters such as control characters, zero-width spaces" in refused.content.decode()
    assert accepted.status_code == 302
    saved = Profile.objects.get()
    assert (saved.offer, saved.seek, saved.languages) == (profile["offer"], "Partners in Valencia 🤝", "Català·Polski")


def test_someone_without_a_confirmed_registration_cannot_opt_in(client, conference):
    registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory(), status="waitlisted")
    logged_in(client, registration.user)

    assert client.get(url("profile", conference)).status_code == 404
    assert client.post(url("profile", conference), {"consent": "on"}).status_code == 404
    assert "for confirmed attendees" in client.get(url("home", conference)).content.decode()
    assert not Profile.objects.exists()


def test_the_directory_lists_only_opted_in_confirmed_participants_of_the_conference(client, conference, ela, marcel):
    hidden = ProfileFactory(registration__conference=conference, opted_in=False, opted_in_at=None)
    cancelled = ProfileFactory(registration__conference=conference, registration__status="cancelled")
    elsewhere = ProfileFactory()
    logged_in(client, ela)

    page = client.get(url("directory", conference)).content.decode()

    assert "Marcel·la Puig" in page
    for absent in (hidden, cancelled, elsewhere, ela):
        assert absent.registration.family_name not in page or absent == ela
    assert f'href="{url("person", conference, profile_id=ela.pk)}"' not in page
    assert client.get(url("person", conference, profile_id=elsewhere.pk)).status_code == 404
    assert client.get(url("person", conference, profile_id=hidden.pk)).status_code == 404


def test_the_directory_filters(client, conference, ela, marcel):
    sector = Sector.objects.create(conference=conference, name="Automotive")
    marcel.sectors.add(sector)
    ProfileFactory(registration__conference=conference, registration__family_name="Öberg", registration__country="SE")
    logged_in(client, ela)

    by_sector = client.get(url("directory", conference), {"sector": sector.pk}).content.decode()
    by_country = client.get(url("directory", conference), {"country": "SE"}).content.decode()
    by_text = client.get(url("directory", conference), {"q": "automoció"}).content.decode()
    nonsense = client.get(url("directory", conference), {"sector": "x'; drop", "country": "ZZ", "page": "-1"})

    assert "Marcel·la" in by_sector
    assert "Öberg" not in by_sector
    assert "Öberg" in by_country
    assert "Marcel·la" not in by_country
    assert "Marcel·la" in by_text
    assert "Öberg" not in by_text
    assert nonsense.status_code == 200


def test_someone_not_opted_in_is_sent_to_the_profile_page(client, conference):
    profile = ProfileFactory(registration__conference=conference, opted_in=False, opted_in_at=None)
    logged_in(client, profile)

    response = client.get(url("directory", conference))

    assert response.status_code == 302
    assert response["Location"] == url("profile", conference)


def test_request_accept_and_both_see_the_table_and_time(client, conference, block, ela, marcel):
    logged_in(client, ela)
    response = client.post(
        url("person", conference, profile_id=marcel.pk), {"block": block.pk, "message": "Hola!\u200b", "slots": []}
    )
    assert response.status_code == 400  # a hidden character refused, with a message
    assert "Leave out invisible characters" in response.content.decode()

    response = client.post(url("person", conference, profile_id=marcel.pk), {"block": block.pk, "message": "Hola!"})
    assert response.status_code == 302
    meeting_request = MeetingRequest.objects.get()

    logged_in(client, marcel)
    second_slot = block.slots.all()[1]
    answer = client.get(url("respond", conference, request_id=meeting_request.pk)).content.decode()
    assert "Europe/Madrid" in answer
    response = client.post(
        url("respond", conference, request_id=meeting_request.pk), {"action": "accept", "slot": second_slot.pk}
    )
    assert response.status_code == 302

    for person in (ela, marcel):
        logged_in(client, person)
        page = client.get(url("home", conference)).content.decode()
        assert "17:20" in page
        assert "(Europe/Madrid)" in page
        assert f"<td>1 · {block.session.room.name}</td>" in page


def test_a_slot_taken_meanwhile_gives_409_and_the_free_times(client, conference, block, ela, marcel):
    meeting_request = services.send_request(ela, block=block, recipient=marcel)
    first = block.slots.first()
    other = ProfileFactory(registration__conference=conference)
    services.accept_request(services.send_request(other, block=block, recipient=marcel), by=marcel, slot_id=first.pk)
    logged_in(client, marcel)

    response = client.post(
        url("respond", conference, request_id=meeting_request.pk), {"action": "accept", "slot": first.pk}
    )

    assert response.status_code == 409
    assert "That time was just taken" in response.content.decode()
    page = response.content.decode()
    assert "17:20" in page
    meeting_request.refresh_from_db()
    assert meeting_request.status == MeetingRequest.Status.PENDING


def test_crafted_ids_of_another_conference_or_person_find_nothing(client, conference, block, ela, marcel):
    mine = services.send_request(ela, block=block, recipient=marcel)
    other_conference_block = MeetingBlockFactory()
    far = ProfileFactory(registration__conference=other_conference_block.session.conference)
    far_other = ProfileFactory(registration__conference=other_conference_block.session.conference)
    theirs = services.send_request(far, block=other_conference_block, recipient=far_other)
    before = (MeetingRequest.objects.count(), Meeting.objects.count(), OutgoingEmail.objects.count())
    logged_in(client, ela)

    assert (
        client.post(url("respond", conference, request_id=mine.pk), {"action": "accept", "slot": "any"}).status_code
        == 404
    )
    assert client.post(url("respond", conference, request_id=theirs.pk), {"action": "decline"}).status_code == 404
    assert client.post(url("cancel", conference, request_id=theirs.pk)).status_code == 404
    response = client.post(url("person", conference, profile_id=marcel.pk), {"block": other_conference_block.pk})
    assert response.status_code == 400
    assert client.post(url("person", conference, profile_id=far.pk), {"block": block.pk}).status_code == 404
    response = client.post(url("person", conference, profile_id=ela.pk), {"block": block.pk})
    assert response.status_code == 404

    assert (MeetingRequest.objects.count(), Meeting.objects.count(), OutgoingEmail.objects.count()) == before


def test_a_replayed_request_is_refused_with_409(client, conference, block, ela, marcel):
    logged_in(client, ela)
    client.post(url("person", conference, profile_id=marcel.pk), {"block": block.pk})

    response = client.post(url("person", conference, profile_id=marcel.pk), {"block": block.pk})

    assert response.status_code == 409
    assert "already a request between you two" in response.content.decode()
    assert MeetingRequest.objects.count() == 1


def test_a_request_outside_the_window_is_refused_with_403(client, conference, block, ela, marcel):
    block.requests_close = timezone.now() - dt.timedelta(minutes=1)
    block.requests_open = timezone.now() - dt.timedelta(days=2)
    block.save()
    logged_in(client, ela)

    response = client.post(url("person", conference, profile_id=marcel.pk), {"block": block.pk})

    assert response.status_code == 403
    assert "cannot be sent at this time" in response.content.decode()
    assert not MeetingRequest.objects.exists()


def test_opt_out_takes_one_out(client, conference, block, ela, marcel):
    services.send_request(ela, block=block, recipient=marcel)
    logged_in(client, ela)

    assert client.post(url("opt_out", conference)).status_code == 302

    assert not Profile.objects.get(pk=ela.pk).opted_in
    assert MeetingRequest.objects.get().status == MeetingRequest.Status.CANCELLED


@pytest.mark.parametrize("count", [1, 30])
def test_list_pages_cost_the_same_number_of_queries_for_1_or_30(
    client, django_assert_num_queries, conference, block, ela, count
):
    block.max_meetings = block.max_open_requests = 100
    block.save()
    sector = Sector.objects.create(conference=conference, name="Energy")
    people = ProfileFactory.create_batch(count, registration__conference=conference)
    for person in people:
        person.sectors.add(sector)
        meeting_request = services.send_request(person, block=block, recipient=ela)
        if person.pk % 2:
            services.accept_request(meeting_request, by=ela, slot_id=None)
    logged_in(client, ela)
    client.get(url("home", conference))  # sessions and caches warm

    with django_assert_num_queries(11):
        client.get(url("directory", conference))
    with django_assert_num_queries(8):
        client.get(url("home", conference))


def test_staff_pages_need_the_meetings_permission(client, conference, block, ela, marcel):
    services.accept_request(
        services.send_request(ela, block=block, recipient=marcel), by=marcel, slot_id=block.slots.first().pk
    )
    Registration.objects.filter(pk=marcel.registration_id).update(organisation='=HYPERLINK("http://x")')
    member, outsider = VerifiedUserFactory(), VerifiedUserFactory()
    TeamFactory(conferences=[conference], members=[member], can_run_meetings=True)
    TeamFactory(conferences=[conference], members=[outsider], can_run_voting=True)

    logged_in(client, outsider)
    assert client.get(url("figures", conference)).status_code == 403
    assert client.get(url("table_plan_csv", conference, block_id=block.pk)).status_code == 403

    logged_in(client, member)
    figures = client.get(url("figures", conference)).content.decode()
    plan = client.get(url("table_plan", conference, block_id=block.pk)).content.decode()
    csv = client.get(url("table_plan_csv", conference, block_id=block.pk)).content.decode("utf-8-sig")
    other_block = MeetingBlockFactory()

    assert "Poland" in figures
    assert "Spain" in figures
    assert "Marcel·la Puig" in plan
    assert "17:00" in plan
    assert "Elżbieta Bieńkowska" in csv
    assert "'=HYPERLINK" in csv
    assert client.get(url("table_plan", conference, block_id=other_block.pk)).status_code == 404
