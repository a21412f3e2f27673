import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """People who run one conference, or a series of them, and what they may do there.

    Superusers may do everything everywhere; everyone else only what a team of theirs
    allows, in that team's conferences (accounts.teams answers the question)."""

    name = models.CharField(_("name"), max_length=200)
    conferences = models.ManyToManyField("agenda.Conference", related_name="teams", verbose_name=_("conferences"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )
    can_edit_programme = models.BooleanField(
        _("edit the programme"), default=False, help_text=_("The conference, rooms, tracks, speakers and sessions.")
    )
    can_view_registrations = models.BooleanField(_("see registrations"), default=False)
    can_change_registrations = models.BooleanField(
        _("change registrations"), default=False, help_text=_("Approve, reject, move up and cancel.")
    )
    can_export_attendees = models.BooleanField(_("export attendee lists"), default=False)
    can_check_in = models.BooleanField(_("check people in"), default=False)
    can_run_meetings = models.BooleanField(_("run bilateral meetings"), default=False)
    can_run_voting = models.BooleanField(_("run voting"), default=False)
    can_message_attendees = models.BooleanField(_("message attendees"), default=False)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class TeamInvitation(models.Model):
    """An invitation to join a team, sent by email: whoever opens its link, logged in with
    a verified address it was sent to, joins the team. Used once; it expires."""

    VALID_FOR = datetime.timedelta(days=14)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("team"))
    email = models.EmailField(_("email"))
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)

    class Meta:
        verbose_name = _("team invitation")
        verbose_name_plural = _("team invitations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.email

    @property
    def expires_at(self) -> datetime.datetime:
        return self.created_at + self.VALID_FOR
