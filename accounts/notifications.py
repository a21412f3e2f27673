"""The emails accounts writes about teams, through the outbox."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from outbox.emails import compose, queue_email


def invitation(invitation) -> None:
    """The invitation to join a team, in the language of the organiser sending it."""
    team = invitation.team
    subject = _("Join the team “%(team)s”") % {"team": team.name}
    content = _(
        "%(inviter)s invites you to join the team “%(team)s”, which runs %(conferences)s.\n\n"
        "To join, open this link within 14 days, logged in with this address (%(email)s):\n"
        "%(link)s\n\n"
        "If you did not expect this invitation, ignore it."
    ) % {
        "inviter": invitation.invited_by.email if invitation.invited_by else _("An organiser"),
        "team": team.name,
        "conferences": ", ".join(str(conference) for conference in team.conferences.all()),
        "email": invitation.email,
        "link": settings.SITE_URL + reverse("team_join", args=[invitation.token]),
    }
    body_text, body_html = compose(heading=subject, content=content)
    queue_email(
        to=invitation.email,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        kind="team_invitation",
        language=get_language() or settings.LANGUAGE_CODE,
    )
