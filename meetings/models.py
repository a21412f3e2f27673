"""Bilateral meetings: who takes part (profiles), when and where meetings happen (blocks,
slots, tables), who asked whom (requests) and what was agreed (meetings).

The rules that must hold under any concurrency live in the database: one person is in at
most one meeting per slot (MeetingSeat), a table hosts at most one meeting per slot, a
pair has at most one live request per block, and nobody asks themselves.
"""

import datetime as dt
import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agenda.models import Conference, Session
from conference.validators import validate_plain_text
from registration.models import Registration


class Sector(models.Model):
    """An industry sector the organisers list for a conference's participants to choose from."""

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="meeting_sectors")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["conference", "name"], name="sector_name_unique_per_conference")]

    def __str__(self) -> str:
        return self.name


class Theme(models.Model):
    """A smart-specialisation theme the organisers list for a conference."""

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="meeting_themes")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("smart-specialisation theme")
        verbose_name_plural = _("smart-specialisation themes")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["conference", "name"], name="theme_name_unique_per_conference")]

    def __str__(self) -> str:
        return self.name


class MeetingSettings(models.Model):
    """What the organisers decide for all of a conference's bilateral meetings (a conference
    without a row keeps the defaults)."""

    conference = models.OneToOneField(
        Conference, on_delete=models.CASCADE, related_name="meeting_settings", verbose_name=_("conference")
    )
    approve_profiles = models.BooleanField(
        _("organisers approve profiles"),
        default=False,
        help_text=_(
            "A new or changed profile is listed only once an organiser approves it. "
            "Profiles listed already stay listed until they change."
        ),
    )

    class Meta:
        verbose_name = _("bilateral meetings settings")
        verbose_name_plural = _("bilateral meetings settings")

    def __str__(self) -> str:
        return str(self.conference)


class ProfileQuerySet(models.QuerySet):
    def listed(self, conference: Conference):
        """The directory: opted-in, approved profiles of confirmed attendees of `conference`."""
        return self.filter(
            conference=conference,
            opted_in=True,
            status=Profile.Status.APPROVED,
            registration__status=Registration.Status.CONFIRMED,
        ).select_related("registration")


class Profile(models.Model):
    """A confirmed attendee's presence in the meetings directory; never listed until they opt
    in, nor, where the organisers approve profiles, until they approve it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the organisers' approval")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Not approved")

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="meeting_profiles")
    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="meeting_profile")
    opted_in = models.BooleanField(_("take part in bilateral meetings"), default=False)
    opted_in_at = models.DateTimeField(_("opted in at"), null=True, blank=True, editable=False)
    offer = models.TextField(_("what we offer"), max_length=1000, blank=True, validators=[validate_plain_text])
    seek = models.TextField(_("what we look for"), max_length=1000, blank=True, validators=[validate_plain_text])
    languages = models.CharField(_("languages spoken"), max_length=200, blank=True, validators=[validate_plain_text])
    sectors = models.ManyToManyField(Sector, blank=True, related_name="profiles", verbose_name=_("sectors"))
    themes = models.ManyToManyField(
        Theme, blank=True, related_name="profiles", verbose_name=_("smart-specialisation themes")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.APPROVED)
    refusal_reason = models.TextField(
        _("why the organisers did not approve it"), max_length=500, blank=True, validators=[validate_plain_text]
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting profile")
        verbose_name_plural = _("meeting profiles")
        ordering = ["registration__family_name", "registration__given_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opted_in=False) | Q(opted_in_at__isnull=False),
                name="profile_opt_in_has_a_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "refused"]), name="profile_status_valid"
            ),
            # A reason answers a refusal only: a profile saved again or approved has none.
            models.CheckConstraint(
                condition=Q(status="refused") | Q(refusal_reason=""), name="profile_reason_only_when_refused"
            ),
        ]

    def __str__(self) -> str:
        return self.registration.full_name

    def get_absolute_url(self) -> str:
        return reverse("meetings:person", kwargs={"slug": self.conference.slug, "profile_id": self.pk})


class MeetingBlock(models.Model):
    """A programme session of the kind "bilateral meetings", cut into slots at numbered tables."""

    class SlotLength(models.IntegerChoices):
        FIFTEEN = 15, _("15 minutes")
        TWENTY = 20, _("20 minutes")
        THIRTY = 30, _("30 minutes")

    session = models.OneToOneField(
        Session,
        on_delete=models.CASCADE,
        related_name="meeting_block",
        limit_choices_to={"kind": Session.Kind.BILATERAL},
        verbose_name=_("programme session"),
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length"), choices=SlotLength.choices, default=SlotLength.TWENTY
    )
    tables = models.PositiveSmallIntegerField(_("tables"), default=10, help_text=_("Tables are numbered from 1."))
    table_label = models.CharField(
        _("table label"), max_length=40, blank=True, help_text=_("e.g. Room; empty means Table.")
    )
    max_meetings = models.PositiveSmallIntegerField(
        _("meetings per participant"), default=6, help_text=_("The most meetings one person may have in this block.")
    )
    max_open_requests = models.PositiveSmallIntegerField(
        _("open requests per participant"),
        default=20,
        help_text=_("The most unanswered requests one person may have sent at a time."),
    )
    requests_open = models.DateTimeField(_("requests may be sent from"))
    requests_close = models.DateTimeField(_("requests may be sent until"))
    request_lifetime = models.DurationField(
        _("unanswered requests expire after"),
        default=dt.timedelta(days=3),
        help_text=_("For example 3 00:00:00 for three days."),
    )
    is_cancelled = models.BooleanField(_("cancelled"), default=False)

    class Meta:
        verbose_name = _("meeting block")
        verbose_name_plural = _("meeting blocks")
        ordering = ["session__start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(tables__gt=0), name="meeting_block_has_tables"),
            models.CheckConstraint(condition=Q(max_meetings__gt=0), name="meeting_block_cap_positive"),
            models.CheckConstraint(condition=Q(max_open_requests__gt=0), name="meeting_block_request_cap_positive"),
            models.CheckConstraint(condition=Q(slot_minutes__in=[15, 20, 30]), name="meeting_block_slot_length"),
            models.CheckConstraint(
                condition=Q(requests_close__gt=F("requests_open")),
                name="meeting_block_window",
                violation_error_message=_("Requests must close after they open."),
            ),
            models.CheckConstraint(
                condition=Q(request_lifetime__gt=dt.timedelta(0)), name="meeting_block_lifetime_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self.session)


class Slot(models.Model):
    block = models.ForeignKey(MeetingBlock, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    is_break = models.BooleanField(_("break"), default=False, help_text=_("No meetings in this slot."))

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["block", "start"], name="slot_start_unique_per_block"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        # Reaches the conference: lists of slots load it with them (select_related).
        return self.block.session.conference.moment(self.start)


class Table(models.Model):
    block = models.ForeignKey(MeetingBlock, on_delete=models.CASCADE, related_name="table_set")
    number = models.PositiveSmallIntegerField(_("number"))

    class Meta:
        verbose_name = _("table")
        verbose_name_plural = _("tables")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["block", "number"], name="table_number_unique_per_block"),
            models.CheckConstraint(condition=Q(number__gt=0), name="table_number_positive"),
        ]

    def __str__(self) -> str:
        return str(self.number)


class MeetingRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    LIVE_STATUSES = (Status.PENDING, Status.ACCEPTED)

    block = models.ForeignKey(MeetingBlock, on_delete=models.CASCADE, related_name="requests")
    sender = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="sent_requests")
    recipient = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="received_requests")
    message = models.TextField(_("message"), max_length=500, blank=True, validators=[validate_plain_text])
    proposed_slots = models.ManyToManyField(Slot, blank=True, related_name="+", verbose_name=_("proposed slots"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(_("reason"), max_length=500, blank=True, validators=[validate_plain_text])
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting request")
        verbose_name_plural = _("meeting requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "declined", "cancelled", "expired"]),
                name="meeting_request_status_valid",
            ),
            models.CheckConstraint(condition=~Q(sender=F("recipient")), name="meeting_request_not_to_oneself"),
            # Either way round, a pair has one live request per block.
            models.UniqueConstraint(
                Least("sender", "recipient"),
                Greatest("sender", "recipient"),
                "block",
                condition=Q(status__in=["pending", "accepted"]),
                name="one_live_request_per_pair_and_block",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="pending"), name="meeting_request_pending_due"),
        ]

    def __str__(self) -> str:
        return f"{self.sender} → {self.recipient}"

    def other(self, profile: Profile) -> Profile:
        return self.recipient if profile.pk == self.sender_id else self.sender


class Meeting(models.Model):
    """An accepted request: scheduled once it has a slot and a table."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted, time to be set")
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    request = models.OneToOneField(MeetingRequest, on_delete=models.CASCADE, related_name="meeting")
    block = models.ForeignKey(MeetingBlock, on_delete=models.CASCADE, related_name="meetings")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings")
    table = models.ForeignKey(Table, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACCEPTED)
    no_show = models.BooleanField(_("did not take place"), default=False)
    # The calendar entry's UID; SEQUENCE rises with every change of time, table or status.
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["slot__start", "table__number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["accepted", "scheduled", "cancelled"]), name="meeting_status_valid"
            ),
            models.UniqueConstraint(
                fields=["slot", "table"], condition=Q(status="scheduled"), name="one_meeting_per_table_and_slot"
            ),
            models.CheckConstraint(
                condition=Q(status="accepted", slot__isnull=True, table__isnull=True)
                | Q(status="scheduled", slot__isnull=False, table__isnull=False)
                | Q(status="cancelled"),
                name="meeting_scheduled_has_slot_and_table",
            ),
        ]

    def __str__(self) -> str:
        return str(self.request)


class MeetingSeat(models.Model):
    """A participant's place in a scheduled meeting: at most one per person and slot.

    Exists only while the meeting is scheduled; the unique constraint is what makes a
    double booking impossible, whatever the services get wrong."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="seats")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="seats")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="seats")

    class Meta:
        verbose_name = _("seat at a meeting")
        verbose_name_plural = _("seats at meetings")
        constraints = [
            models.UniqueConstraint(fields=["profile", "slot"], name="one_meeting_per_person_and_slot"),
            models.UniqueConstraint(fields=["meeting", "profile"], name="one_seat_per_person_and_meeting"),
        ]

    def __str__(self) -> str:
        return f"{self.profile} @ {self.slot}"
