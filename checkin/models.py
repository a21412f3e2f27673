import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agenda.models import Conference, Session
from registration.models import Registration


def new_token() -> str:
    """32 URL-safe characters from 24 random bytes: unguessable, and nothing like a row id."""
    return secrets.token_urlsafe(24)


class Ticket(models.Model):
    """The ticket of one registration: its token is what the QR code carries.

    A registration that is cancelled and made again is a new registration, so it gets a new
    ticket and token; the old token stays tied to the cancelled registration and is refused.
    Only a confirmed registration's ticket lets anyone in (checkin.services decides)."""

    class Role(models.TextChoices):
        PARTICIPANT = "participant", _("Participant")
        SPEAKER = "speaker", _("Speaker")
        ORGANISER = "organiser", _("Organiser")
        PRESS = "press", _("Press")

    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, related_name="ticket", verbose_name=_("registration")
    )
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token, editable=False)
    role = models.CharField(_("role on the badge"), max_length=20, choices=Role.choices, default=Role.PARTICIPANT)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["registration__conference", "registration__number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["participant", "speaker", "organiser", "press"]), name="ticket_role_known"
            ),
        ]

    def __str__(self) -> str:
        return str(self.registration)


class CheckInQuerySet(models.QuerySet):
    def valid(self):
        """Check-ins that stand: not undone."""
        return self.filter(undone_at__isnull=True)


class CheckIn(models.Model):
    """Someone let in at a door: on a conference day (no session), or into a pre-event session.

    An undone check-in stays, marked, as a record of what happened at the door; the unique
    constraints hold among those that stand, so two staff scanning one person at once
    record one check-in."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="check_ins", verbose_name=_("registration")
    )
    # The day in the conference's time zone; for a session, the day it takes place.
    day = models.DateField(_("day"))
    session = models.ForeignKey(
        Session,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="check_ins",
        verbose_name=_("session"),
    )
    checked_in_at = models.DateTimeField(_("checked in at"), default=timezone.now)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in by"),
    )
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    objects = CheckInQuerySet.as_manager()

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "day"],
                condition=Q(session__isnull=True, undone_at__isnull=True),
                name="one_check_in_per_registration_and_day",
            ),
            models.UniqueConstraint(
                fields=["registration", "session"],
                condition=Q(session__isnull=False, undone_at__isnull=True),
                name="one_check_in_per_registration_and_session",
            ),
        ]
        indexes = [models.Index(fields=["day", "session"], condition=Q(undone_at__isnull=True), name="check_in_door")]

    def __str__(self) -> str:
        return f"{self.registration} @ {self.session or self.day}"


class OfflineScan(models.Model):
    """A scan a device made while offline, by the nonce the device gave it: sending a batch
    again finds its scans here and records nothing twice."""

    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="offline_scans", verbose_name=_("conference")
    )
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the scan came to when it was first received: shown again for a replay.
    outcome = models.JSONField(_("outcome"), default=dict)
    received_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("offline scan")
        verbose_name_plural = _("offline scans")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.nonce


class BadgePrint(models.Model):
    """One printing of the badges of everyone: "since the last print" starts from the latest."""

    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="badge_prints", verbose_name=_("conference")
    )
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    printed_at = models.DateTimeField(_("printed at"), default=timezone.now)
    badges = models.PositiveIntegerField(_("badges"))

    class Meta:
        verbose_name = _("badge print")
        verbose_name_plural = _("badge prints")
        ordering = ["-printed_at", "-id"]

    def __str__(self) -> str:
        return gettext("%(conference)s, printed on %(when)s") % {
            "conference": self.conference,
            "when": self.conference.moment(self.printed_at),
        }


class CertificateSettings(models.Model):
    """What the certificates of attendance of one conference say, and who signs them."""

    conference = models.OneToOneField(
        Conference, on_delete=models.CASCADE, related_name="certificate_settings", verbose_name=_("conference")
    )
    signatory_name = models.CharField(_("signed by"), max_length=200)
    signatory_title = models.CharField(_("signatory's title"), max_length=200, blank=True)
    text = models.TextField(
        _("text"),
        blank=True,
        help_text=_("A paragraph under the attendee's name, e.g. what the conference was about."),
    )

    class Meta:
        verbose_name = _("certificate settings")
        verbose_name_plural = _("certificate settings")

    def __str__(self) -> str:
        return str(self.conference)


class BadgeRun(models.Model):
    """A printing too large for one request, built in parts by the workers
    (checkin.build_badge_part); the people are fixed, in print order, when it is asked for."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="badge_runs", verbose_name=_("conference")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    layout = models.CharField(_("paper"), max_length=2)
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    registration_ids = models.JSONField(_("registrations"), default=list)
    part_size = models.PositiveIntegerField(_("badges a part"))
    created_at = models.DateTimeField(_("asked for at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("badge run")
        verbose_name_plural = _("badge runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return gettext("%(conference)s, asked for on %(when)s") % {
            "conference": self.conference,
            "when": self.conference.moment(self.created_at),
        }

    @property
    def part_count(self) -> int:
        return -(-len(self.registration_ids) // self.part_size)


class BadgeRunPart(models.Model):
    """One finished PDF of a badge run. Kept in the database, not in MEDIA_ROOT, whose files
    are public: badges carry names and ticket codes, and only check-in staff may read them."""

    run = models.ForeignKey(BadgeRun, on_delete=models.CASCADE, related_name="parts", verbose_name=_("badge run"))
    index = models.PositiveIntegerField(_("part"))
    content = models.BinaryField(_("PDF"))
    created_at = models.DateTimeField(_("built at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("badge run part")
        verbose_name_plural = _("badge run parts")
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="badge_run_part_unique")]

    def __str__(self) -> str:
        return f"{self.run} #{self.index + 1}"
