"""Writes about a person rather than a registration."""

import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import notifications
from accounts.models import Team, TeamInvitation
from accounts.teams import may_do_anything


def remember_language(user, *, language: str) -> None:
    """Keep `language`, chosen with the site's language switch, as the user's own: account
    emails and their next registration's form default to it. One UPDATE of the user's row,
    only when the language changes; takes no lock."""
    if user.language != language:
        get_user_model().objects.filter(pk=user.pk).update(language=language)
        user.language = language


def sync_staff(users) -> None:
    """Give the admin (is_staff) to whoever is in a team that may do something in a
    conference, and take it from whoever no longer is; superusers keep it."""
    for user in get_user_model().objects.filter(pk__in=[user.pk for user in users]):
        is_staff = may_do_anything(user) if user.is_active else user.is_superuser
        if user.is_staff != is_staff:
            get_user_model().objects.filter(pk=user.pk).update(is_staff=is_staff)


@transaction.atomic
def invite(team: Team, *, email: str, invited_by) -> TeamInvitation:
    """Invite `email` to `team`: the invitation and its email, saved together."""
    invitation = TeamInvitation.objects.create(
        team=team, email=email, invited_by=invited_by, token=secrets.token_urlsafe(32)
    )
    notifications.invitation(invitation)
    return invitation


class InvitationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_invitation(invitation: TeamInvitation, *, user) -> None:
    """Raise InvitationError unless `user` may accept `invitation`: unused, not expired, and
    sent to one of the user's verified addresses."""
    if invitation.accepted_at is not None:
        raise InvitationError(_("This invitation has already been used."))
    if timezone.now() >= invitation.expires_at:
        raise InvitationError(_("This invitation has expired. Ask the organisers for a new one."))
    if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
        raise InvitationError(
            _(
                "This invitation was sent to another address than yours: log in with the address it was sent to, "
                "or add that address to your account and verify it first."
            )
        )


@transaction.atomic
def accept_invitation(invitation: TeamInvitation, *, user) -> None:
    """`user` joins the invitation's team (see check_invitation). Locks the invitation, so
    that it is used once even when two tabs submit it at the same time."""
    invitation = TeamInvitation.objects.select_for_update().select_related("team").get(pk=invitation.pk)
    check_invitation(invitation, user=user)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    invitation.team.members.add(user)
    sync_staff([user])
