import pytest

from accounts.teams import PERMISSIONS, limit, user_can
from agenda.models import Conference, Room
from tests.factories import ConferenceFactory, OrganiserFactory, RoomFactory, TeamFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_conferences():
    return ConferenceFactory(slug="edition-a"), ConferenceFactory(slug="edition-b")


def test_member_holds_the_team_permissions_in_the_team_conferences_only(two_conferences):
    ours, theirs = two_conferences
    member = VerifiedUserFactory()
    TeamFactory(conferences=[ours], members=[member], can_export_attendees=True)

    assert user_can(member, ours, "can_export_attendees")
    assert not user_can(member, ours, "can_check_in")
    assert not user_can(member, theirs, "can_export_attendees")
    assert not user_can(member, theirs.pk, "can_export_attendees")


def test_team_of_a_series_runs_every_conference_it_names(two_conferences):
    member = VerifiedUserFactory()
    TeamFactory(conferences=two_conferences, members=[member], can_run_voting=True)

    assert all(user_can(member, conference, "can_run_voting") for conference in two_conferences)


def test_superuser_holds_every_permission_and_inactive_or_anonymous_none(two_conferences):
    from django.contrib.auth.models import AnonymousUser

    ours, _ = two_conferences
    organiser = OrganiserFactory()
    gone = VerifiedUserFactory(is_active=False)
    TeamFactory(conferences=[ours], members=[gone], **dict.fromkeys(PERMISSIONS, True))

    assert all(user_can(organiser, ours, permission) for permission in PERMISSIONS)
    assert not any(user_can(gone, ours, permission) for permission in PERMISSIONS)
    assert not user_can(AnonymousUser(), ours, "can_check_in")


def test_unknown_permission_is_a_programming_error(two_conferences):
    with pytest.raises(ValueError, match="can_fly"):
        user_can(OrganiserFactory(), two_conferences[0], "can_fly")


def test_limit_cuts_any_queryset_down_to_the_member_conferences(two_conferences, django_assert_num_queries):
    ours, theirs = two_conferences
    RoomFactory(conference=ours, name="Sala 1")
    RoomFactory(conference=theirs, name="Sala 2")
    member = VerifiedUserFactory()
    TeamFactory(conferences=[ours], members=[member], can_edit_programme=True)
    TeamFactory(conferences=[theirs], members=[member], can_check_in=True)

    with django_assert_num_queries(1):
        assert list(limit(Conference.objects.all(), member, "can_edit_programme", via="")) == [ours]
    assert [room.name for room in limit(Room.objects.all(), member, "can_edit_programme")] == ["Sala 1"]
    assert {room.name for room in limit(Room.objects.all(), member)} == {"Sala 1", "Sala 2"}
    assert limit(Room.objects.all(), VerifiedUserFactory()).count() == 0
    assert limit(Room.objects.all(), OrganiserFactory()).count() == 2
