"""Where the organisers approve meetings profiles: a new or changed profile waits, unlisted,
until an organiser approves it; the participant sees where it stands and is told by email."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError
from django.urls import reverse
from django.utils.html import escape

from meetings import exceptions, services
from meetings.models import Meeting, MeetingRequest, MeetingSettings, Profile
from outbox.models import OutgoingEmail
from tests.factories import ConferenceFactory, ProfileFactory, TeamFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

PROFILES = reverse("admin:meetings_profile_changelist")


@pytest.fixture
def approving(conference):
    return MeetingSettings.objects.create(conference=conference, approve_profiles=True)


def save(profile_or_registration, **changes) -> Profile:
    registration = getattr(profile_or_registration, "registration", profile_or_registration)
    fields = {"offer": "Testing labs", "seek": "Partners", "languages": "English", "sectors": [], "themes": []}
    return services.save_profile(registration, **{**fields, **changes})


def listed(conference) -> list[Profile]:
    return list(Profile.objects.listed(conference))


def test_without_the_setting_a_saved_profile_is_listed_at_once(conference, ela):
    profile = save(ela, offer="Something new")

    assert profile.status == Profile.Status.APPROVED
    assert profile in listed(conference)


def test_a_new_profile_waits_for_approval_unlisted_and_may_not_ask(conference, block, approving, marcel):
    registration = ProfileFactory(registration__conference=conference).registration
    registration.meeting_profile.delete()

    profile = save(registration)

    assert profile.status == Profile.Status.PENDING
    assert profile not in listed(conference)
    with pytest.raises(exceptions.ProfileNotApproved):
        services.send_request(profile, block=block, recipient=marcel)
    with pytest.raises(exceptions.NotFound):
        services.send_request(marcel, block=block, recipient=profile)


def test_an_approved_profile_saved_unchanged_stays_listed_and_a_changed_one_waits(conference, approving, ela):
    assert save(ela, offer=ela.offer, seek=ela.seek, languages=ela.languages).status == Profile.Status.APPROVED

    assert save(ela, offer="Now something else").status == Profile.Status.PENDING
    assert ela not in listed(conference)


def test_approving_lists_the_profile_and_tells_its_owner_in_their_language(conference, approving, marcel):
    save(marcel, offer="Otra oferta")

    assert services.approve_profile(marcel) is True
    assert services.approve_profile(marcel) is False  # answered already: nothing more

    marcel.refresh_from_db()
    assert marcel.status == Profile.Status.APPROVED
    assert marcel in listed(conference)
    email = OutgoingEmail.objects.get(kind="meetings_profile_approved")
    assert (email.to, email.language) == ("marcella@example.es", "es")
    assert "aprobado" in email.subject


def test_refusing_keeps_it_unlisted_cancels_its_meetings_and_tells_everyone(conference, block, approving, ela, marcel):
    meeting = services.accept_request(
        services.send_request(ela, block=block, recipient=marcel), by=marcel, slot_id=block.slots.first().pk
    )
    save(ela, offer="Changed")

    assert services.refuse_profile(ela) is True

    ela.refresh_from_db()
    meeting.refresh_from_db()
    assert ela.status == Profile.Status.REFUSED
    assert ela not in listed(conference)
    assert meeting.status == Meeting.Status.CANCELLED
    assert MeetingRequest.objects.get().status == MeetingRequest.Status.CANCELLED
    assert OutgoingEmail.objects.get(kind="meetings_profile_refused").to == "ela@example.eu"
    assert OutgoingEmail.objects.get(kind="meetings_request_cancelled").to == "marcella@example.es"
    # Saving it again asks for approval again.
    assert save(ela, offer="Changed").status == Profile.Status.PENDING


def test_the_database_refuses_an_unknown_status(ela):
    with pytest.raises(IntegrityError):
        Profile.objects.filter(pk=ela.pk).update(status="maybe")


def test_the_database_keeps_a_reason_for_refused_profiles_only(ela):
    with pytest.raises(IntegrityError):
        Profile.objects.filter(pk=ela.pk).update(status="approved", refusal_reason="Too vague")


def test_a_refusal_reason_is_kept_emailed_in_their_language_and_gone_once_saved_again(
    client, conference, approving, marcel
):
    save(marcel, offer="Otra oferta")

    assert services.refuse_profile(marcel, reason="Describe qué ofrece vuestro clúster,\npor favor.") is True

    marcel.refresh_from_db()
    assert (marcel.status, marcel.refusal_reason) == ("refused", "Describe qué ofrece vuestro clúster,\npor favor.")
    email = OutgoingEmail.objects.get(kind="meetings_profile_refused")
    assert email.language == "es"
    assert "Describe qué ofrece vuestro clúster,\npor favor." in email.body_text
    assert "vuestro clúster,<br>por favor.</p>" in email.body_html
    client.force_login(marcel.registration.user)
    for name in ("meetings:home", "meetings:profile"):
        page = client.get(reverse(name, kwargs={"slug": conference.slug})).content.decode()
        assert 'id="profile-status"' in page
        assert "Describe qué ofrece vuestro clúster," in page

    assert save(marcel, offer="Laboratorios de pruebas").refusal_reason == ""
    page = client.get(reverse("meetings:home", kwargs={"slug": conference.slug})).content.decode()
    assert "Describe qué ofrece" not in page


def test_a_refusal_without_a_reason_says_none(client, conference, approving, ela):
    save(ela, offer="Changed")

    services.refuse_profile(ela)

    email = OutgoingEmail.objects.get(kind="meetings_profile_refused")
    assert "The organisers have not approved your profile" in email.body_text
    assert "reason" not in email.body_text
    client.force_login(ela.registration.user)
    page = client.get(reverse("meetings:home", kwargs={"slug": conference.slug})).content.decode()
    assert "The organisers did not approve your profile" in page
    assert "The organisers&#x27; reason:" not in page


def test_the_participant_sees_that_their_profile_waits(client, conference, approving, ela):
    client.force_login(ela.registration.user)

    response = client.post(
        reverse("meetings:profile", kwargs={"slug": conference.slug}),
        {"consent": "on", "offer": "Changed", "seek": ela.seek, "languages": ela.languages},
        follow=True,
    )

    page = response.content.decode()
    assert "The organisers approve profiles: we will email you once they have." in page
    assert 'id="profile-status"' in page
    assert "waits for the organisers" in page


def test_an_organiser_approves_and_refuses_in_the_admin_their_conferences_only(client, conference, approving):
    waiting, other = ProfileFactory.create_batch(2, registration__conference=conference, status="pending")
    elsewhere = ProfileFactory(registration__conference=ConferenceFactory(), status="pending")
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=[conference], members=[user], can_run_meetings=True)
    client.force_login(user)

    page = client.get(PROFILES, {"status__exact": "pending"}).content.decode()
    assert reverse("admin:meetings_profile_change", args=[waiting.pk]) in page
    assert reverse("admin:meetings_profile_change", args=[elsewhere.pk]) not in page

    client.post(PROFILES, {"action": "approve", ACTION_CHECKBOX_NAME: [waiting.pk, elsewhere.pk]})
    client.post(PROFILES, {"action": "refuse", ACTION_CHECKBOX_NAME: [other.pk]})

    statuses = dict(Profile.objects.values_list("pk", "status"))
    assert statuses == {waiting.pk: "approved", other.pk: "refused", elsewhere.pk: "pending"}
    assert OutgoingEmail.objects.filter(kind__startswith="meetings_profile_").count() == 2
    # The admin's action answers many at once, with no reason.
    assert Profile.objects.get(pk=other.pk).refusal_reason == ""


def test_someone_without_the_permission_cannot_approve(client, conference, approving):
    waiting = ProfileFactory(registration__conference=conference, status="pending")
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=[conference], members=[user], can_run_voting=True)
    client.force_login(user)

    response = client.post(PROFILES, {"action": "approve", ACTION_CHECKBOX_NAME: [waiting.pk]})

    assert response.status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == Profile.Status.PENDING


def staff_url(conference) -> str:
    return reverse("meetings:profiles", kwargs={"slug": conference.slug})


@pytest.fixture
def organiser(client, conference):
    user = VerifiedUserFactory()
    TeamFactory(conferences=[conference], members=[user], can_run_meetings=True)
    client.force_login(user)
    return user


def test_an_organiser_answers_waiting_profiles_on_the_staff_page(client, conference, approving, organiser):
    waiting, other = ProfileFactory.create_batch(2, registration__conference=conference, status="pending")
    listed_already = ProfileFactory(registration__conference=conference)

    page = client.get(staff_url(conference)).content.decode()
    assert waiting.registration.full_name in page
    assert listed_already.registration.full_name not in page

    approved = client.post(staff_url(conference), {"profile": waiting.pk, "decision": "approve"}, follow=True)
    client.post(staff_url(conference), {"profile": other.pk, "decision": "refuse"})
    again = client.post(staff_url(conference), {"profile": other.pk, "decision": "approve"}, follow=True)

    assert "is approved and listed; we told them." in approved.content.decode()
    assert "nothing was changed" in again.content.decode()
    statuses = dict(Profile.objects.filter(pk__in=[waiting.pk, other.pk]).values_list("pk", "status"))
    assert statuses == {waiting.pk: "approved", other.pk: "refused"}
    assert OutgoingEmail.objects.filter(kind__startswith="meetings_profile_").count() == 2


def test_an_organiser_gives_a_reason_when_not_approving_on_the_staff_page(client, conference, approving, organiser):
    waiting = ProfileFactory(registration__conference=conference, status="pending")

    page = client.get(staff_url(conference)).content.decode()
    assert f'<label for="reason-{waiting.pk}">Reason if you do not approve it (optional)</label>' in page
    assert f'aria-describedby="reason-{waiting.pk}-help"' in page

    response = client.post(
        staff_url(conference),
        {"profile": waiting.pk, "decision": "refuse", "reason": "  Please say what your cluster offers.  "},
        follow=True,
    )

    assert "is not approved; we told them." in response.content.decode()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.refusal_reason) == ("refused", "Please say what your cluster offers.")
    assert "Please say what your cluster offers." in OutgoingEmail.objects.get().body_text


@pytest.mark.parametrize(
    ("decision", "reason", "message"),
    [
        ("refuse", "Not\u200bnow", "Leave out invisible characters"),
        ("refuse", "x" * 501, "at most 500 characters"),
        ("approve", "Looks good", "A reason goes with not approving a profile"),
    ],
    ids=["invisible characters", "too long", "a reason with an approval"],
)
def test_a_bad_reason_gets_a_400_by_its_field_and_changes_nothing(
    client, conference, approving, organiser, decision, reason, message
):
    waiting, other = ProfileFactory.create_batch(2, registration__conference=conference, status="pending")

    response = client.post(staff_url(conference), {"profile": waiting.pk, "decision": decision, "reason": reason})

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    # The reason goes back into the form it came from, marked, and only there.
    assert f'aria-describedby="reason-{waiting.pk}-help" aria-invalid="true">{escape(reason)}</textarea>' in page
    assert (
        f'id="reason-{other.pk}" rows="2" maxlength="500" aria-describedby="reason-{other.pk}-help"></textarea>' in page
    )
    assert set(Profile.objects.values_list("status", "refusal_reason")) == {("pending", "")}
    assert not OutgoingEmail.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        lambda ctx: {"profile": ctx["elsewhere"].pk, "decision": "approve"},
        lambda ctx: {"profile": "nonsense", "decision": "approve"},
        lambda ctx: {"profile": ctx["waiting"].pk, "decision": "maybe"},
        lambda ctx: {},
    ],
    ids=["another conference", "not an id", "no such decision", "empty"],
)
def test_bad_answers_get_a_400_and_change_nothing(client, conference, approving, organiser, data):
    ctx = {
        "waiting": ProfileFactory(registration__conference=conference, status="pending"),
        "elsewhere": ProfileFactory(registration__conference=ConferenceFactory(), status="pending"),
    }

    response = client.post(staff_url(conference), data(ctx))

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert set(Profile.objects.values_list("status", flat=True)) == {"pending"}
    assert not OutgoingEmail.objects.exists()


def test_the_staff_page_needs_the_meetings_permission(client, conference, approving):
    waiting = ProfileFactory(registration__conference=conference, status="pending")
    outsider = VerifiedUserFactory()
    TeamFactory(conferences=[conference], members=[outsider], can_run_voting=True)
    client.force_login(outsider)

    assert client.get(staff_url(conference)).status_code == 403
    assert client.post(staff_url(conference), {"profile": waiting.pk, "decision": "approve"}).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == Profile.Status.PENDING


@pytest.mark.parametrize("count", [1, 30])
def test_the_staff_page_costs_the_same_queries_for_1_or_30(
    client, conference, approving, organiser, count, django_assert_num_queries
):
    for profile in ProfileFactory.create_batch(count, registration__conference=conference, status="pending"):
        profile.sectors.create(conference=conference, name=f"Sector {profile.pk}")
    client.get(staff_url(conference))  # sessions and caches warm

    # Whatever the number of profiles: one query for them, one for their sectors, one for their themes.
    with django_assert_num_queries(6):
        response = client.get(staff_url(conference))

    assert response.content.decode().count('name="decision" value="approve"') == count
