"""Invitations to join a team: sent from the Team admin through the outbox; accepted once,
within 14 days, by a logged-in user with a verified address it was sent to; members of a
team that may do something get the admin, and lose it when they leave every such team."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Team, TeamInvitation
from outbox.models import OutgoingEmail
from registration.models import User
from tests.factories import ConferenceFactory, OrganiserFactory, TeamFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


def team_form(team: Team, *, invite: str = "", members: list[User] = ()) -> dict:
    return {
        "name": team.name,
        "conferences": [conference.pk for conference in team.conferences.all()],
        "members": [member.pk for member in members],
        "can_edit_programme": "on",
        "invitations-TOTAL_FORMS": 1,
        "invitations-INITIAL_FORMS": 0,
        "invitations-MIN_NUM_FORMS": 0,
        "invitations-MAX_NUM_FORMS": 1000,
        "invitations-0-email": invite,
    }


@pytest.fixture
def team():
    return TeamFactory(
        name="Programme 2027", conferences=[ConferenceFactory(name="GROW 2027")], can_edit_programme=True
    )


@pytest.fixture
def organiser(client):
    user = OrganiserFactory()
    client.force_login(user)
    return user


def invite(team: Team, email: str = "Marcel·la@example.org", by: User | None = None) -> TeamInvitation:
    return services.invite(team, email=email, invited_by=by or OrganiserFactory())


def test_an_organiser_invites_from_the_team_admin_and_the_email_goes_through_the_outbox(
    client, organiser, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("admin:accounts_team_change", args=[team.pk]), team_form(team, invite="elzbieta@example.org")
        )

    assert response.status_code == 302
    invitation = TeamInvitation.objects.get()
    assert (invitation.email, invitation.team, invitation.invited_by) == ("elzbieta@example.org", team, organiser)
    assert len(invitation.token) >= 40
    email = OutgoingEmail.objects.get(kind="team_invitation")
    assert email.to == "elzbieta@example.org"
    assert "Programme 2027" in email.subject
    assert f"/accounts/teams/join/{invitation.token}/" in email.body_text
    assert "GROW 2027" in email.body_text


def test_the_invitee_joins_with_a_verified_address_and_gets_the_admin(client, team):
    user = VerifiedUserFactory(email="marcel·la@example.org")
    invitation = invite(team)
    client.force_login(user)
    url = reverse("team_join", args=[invitation.token])

    shown = client.get(url)
    joined = client.post(url)

    assert shown.status_code == 200
    assert "Programme 2027" in shown.content.decode()
    assert joined.status_code == 302
    assert joined["Location"] == reverse("admin:index")
    assert list(team.members.all()) == [user]
    assert User.objects.get(pk=user.pk).is_staff
    assert TeamInvitation.objects.get().accepted_at is not None


def test_an_invitation_is_used_once(client, team):
    first, second = VerifiedUserFactory(email="marcel·la@example.org"), VerifiedUserFactory()
    EmailAddress.objects.create(user=second, email="MARCEL·LA@example.org", verified=True)
    invitation = invite(team)
    client.force_login(first)
    client.post(reverse("team_join", args=[invitation.token]))
    client.force_login(second)

    again = client.post(reverse("team_join", args=[invitation.token]))

    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert list(team.members.all()) == [first]


def test_an_expired_invitation_is_refused(client, team):
    user = VerifiedUserFactory(email="marcel·la@example.org")
    invitation = invite(team)
    TeamInvitation.objects.filter(pk=invitation.pk).update(created_at=timezone.now() - dt.timedelta(days=14, seconds=1))
    client.force_login(user)

    response = client.post(reverse("team_join", args=[invitation.token]))

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not team.members.exists()
    assert not User.objects.get(pk=user.pk).is_staff


@pytest.mark.parametrize(
    "invited",
    ["marcel·la@example.org", "third@example.org"],
    ids=["an address of theirs not verified", "an address not theirs"],
)
def test_an_invitation_for_another_address_or_an_unverified_one_is_refused(client, team, invited):
    user = VerifiedUserFactory(email="someone-else@example.org")
    EmailAddress.objects.create(user=user, email="marcel·la@example.org", verified=False)
    invitation = invite(team, email=invited)
    client.force_login(user)

    response = client.post(reverse("team_join", args=[invitation.token]))

    assert response.status_code == 400
    content = response.content.decode()
    assert "another address than yours" in content
    assert invitation.email not in content  # the page does not tell whom it was for
    assert not team.members.exists()


def test_an_unknown_token_is_a_404_and_anonymous_visitors_log_in_first(client, team):
    invitation = invite(team)

    anonymous = client.get(reverse("team_join", args=[invitation.token]))
    client.force_login(VerifiedUserFactory())
    unknown = client.get(reverse("team_join", args=["not-a-token"]))

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert unknown.status_code == 404


def test_leaving_every_team_takes_the_admin_away_but_not_from_a_superuser(client, organiser, team):
    member, superuser = UserFactory(is_staff=True), OrganiserFactory()
    team.members.set([member, superuser])

    response = client.post(reverse("admin:accounts_team_change", args=[team.pk]), team_form(team, members=[]))

    assert response.status_code == 302
    assert not User.objects.get(pk=member.pk).is_staff
    assert User.objects.get(pk=superuser.pk).is_staff


def test_a_member_added_in_the_admin_gets_it(client, organiser, team):
    member = UserFactory()

    client.post(reverse("admin:accounts_team_change", args=[team.pk]), team_form(team, members=[member]))

    assert User.objects.get(pk=member.pk).is_staff


def test_the_invitation_page_escapes_the_team_name(client):
    team = TeamFactory(name='<script>alert("x")</script>', conferences=[ConferenceFactory()], can_check_in=True)
    invitation = invite(team)
    client.force_login(VerifiedUserFactory(email="marcel·la@example.org"))

    content = client.get(reverse("team_join", args=[invitation.token])).content.decode()

    assert '<script>alert("x")' not in content
    assert re.search(r"&lt;script&gt;", content)
