from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from agenda.models import Conference, Session
from conference.validators import validate_name, validate_plain_text
from outbox.models import OutgoingEmail


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account; the email address is the login."""

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Can log in to the admin and the staff pages.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    language = models.CharField(
        _("language for emails"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ignoring_case"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.email

    def get_short_name(self) -> str:
        return self.email


class RegistrationQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=Registration.LIVE_STATUSES)

    def for_user(self, user):
        return self.filter(user=user) if user.is_authenticated else self.none()


class Registration(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")
        REJECTED = "rejected", _("Rejected")

    class OrganisationType(models.TextChoices):
        CLUSTER = "cluster", _("Cluster organisation")
        SME = "sme", _("SME")
        LARGE_COMPANY = "large_company", _("Large company")
        RESEARCH = "research", _("Research or university")
        PUBLIC_AUTHORITY = "public_authority", _("Public authority")
        EU_INSTITUTION = "eu_institution", _("EU institution")
        OTHER = "other", _("Other")

    # Statuses that hold or wait for a place; a user has at most one per conference.
    LIVE_STATUSES = (Status.PENDING, Status.CONFIRMED, Status.WAITLISTED)
    # What the attendee fills in, may change later and finds filled in at their next registration.
    DETAIL_FIELDS = (
        "given_name",
        "family_name",
        "organisation",
        "organisation_type",
        "country",
        "job_title",
        "dietary_requirements",
        "accessibility_needs",
        "language",
    )
    # Answers that can reveal health or religion: erased first, soon after the conference.
    SENSITIVE_FIELDS = ("dietary_requirements", "accessibility_needs")

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="registrations")
    # Empty once the attendee deleted their account: the row stays, anonymised, for the figures.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="registrations"
    )
    number = models.PositiveIntegerField(_("registration number"), editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, db_index=True)
    given_name = models.CharField(_("given name"), max_length=100, validators=[validate_name])
    family_name = models.CharField(_("family name"), max_length=100, validators=[validate_name])
    organisation = models.CharField(_("organisation"), max_length=200, validators=[validate_plain_text])
    organisation_type = models.CharField(_("organisation type"), max_length=20, choices=OrganisationType.choices)
    country = CountryField(_("country"))
    job_title = models.CharField(_("job title"), max_length=200, blank=True, validators=[validate_plain_text])
    dietary_requirements = models.CharField(
        _("dietary requirements"), max_length=500, blank=True, validators=[validate_plain_text]
    )
    accessibility_needs = models.CharField(
        _("accessibility needs"), max_length=500, blank=True, validators=[validate_plain_text]
    )
    privacy_statement_agreed = models.TextField(_("privacy statement agreed to"), editable=False)
    privacy_agreed_at = models.DateTimeField(_("privacy statement agreed at"), editable=False)
    # The current state of the attendee's consents (Consent keeps what they agreed to and
    # when): without one, no photos and only the essential messages. Only the consent
    # services in registration.services change these.
    photo_opt_out = models.BooleanField(_("no photos or streaming of me"), default=True, editable=False)
    essential_messages_only = models.BooleanField(
        _("only essential messages from the organisers"), default=True, editable=False
    )
    language = models.CharField(
        _("language for emails"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    # When the registration took its current status: waiting-list order is by this, then id.
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set when the personal data was erased (the retention period ran out, the account or
    # the agreement to the privacy statement went): what is left names nobody.
    personal_data_erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True, editable=False)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["conference", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "user"],
                condition=Q(status__in=["pending", "confirmed", "waitlisted"]),
                name="one_live_registration_per_user_and_conference",
                violation_error_message=_("You are already registered for this conference."),
            ),
            models.UniqueConstraint(fields=["conference", "number"], name="registration_number_unique"),
            # The choices, in the database too (a test keeps the lists equal to them).
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "waitlisted", "cancelled", "rejected"]),
                name="registration_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["conference", "status", "status_changed_at", "id"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.conference})"

    def get_absolute_url(self) -> str:
        return reverse("registration:mine", kwargs={"slug": self.conference.slug})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class Booking(models.Model):
    """A registration's seat, or place in the queue, on a session that needs sign-up."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waiting list")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="bookings")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["session__start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "session"], name="one_booking_per_registration_and_session"
            ),
            models.CheckConstraint(condition=Q(status__in=["confirmed", "waitlisted"]), name="booking_status_valid"),
        ]
        indexes = [models.Index(fields=["session", "status", "status_changed_at", "id"])]

    def __str__(self) -> str:
        return f"{self.registration} → {self.session}"


class RegistrationChange(models.Model):
    """The history of a registration: who changed what, and when."""

    class Action(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        DETAILS_CHANGED = "details_changed", _("Details changed")
        BOOKINGS_CHANGED = "bookings_changed", _("Pre-event choices changed")
        PROMOTED = "promoted", _("Moved up from the waiting list")
        BOOKING_PROMOTED = "booking_promoted", _("Given a pre-event seat from its waiting list")
        MOVED_UP = "moved_up", _("Put first on the waiting list")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        ANONYMISED = "anonymised", _("Account deleted; personal data erased")
        ERASED = "erased", _("Personal data erased")
        ANSWERS_ERASED = "answers_erased", _("Dietary and accessibility answers erased")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("registration change")
        verbose_name_plural = _("registration history")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=[
                        "registered",
                        "details_changed",
                        "bookings_changed",
                        "promoted",
                        "booking_promoted",
                        "moved_up",
                        "approved",
                        "rejected",
                        "cancelled",
                        "anonymised",
                        "erased",
                        "answers_erased",
                    ]
                ),
                name="registration_change_action_valid",
            ),
        ]

    def __str__(self) -> str:
        # No time here: a name has no time zone to show it in (the admin shows when, in the conference's).
        return f"{self.get_action_display()} #{self.pk}"


class Consent(models.Model):
    """An attendee's agreement for one purpose: the exact words they ticked and when, and when
    they withdrew it. Giving it again after a withdrawal is a new row, so the record keeps
    every change."""

    class Purpose(models.TextChoices):
        PRIVACY = "privacy", _("Privacy statement")
        PHOTOS = "photos", _("Photos and streaming")
        MESSAGES = "messages", _("Optional messages from the organisers")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    text = models.TextField(_("text agreed to"))
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["given_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_current_consent_per_purpose",
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=["privacy", "photos", "messages"]), name="consent_purpose_valid"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(purpose)s, given on %(when)s") % {
            "purpose": self.get_purpose_display(),
            "when": self.registration.conference.moment(self.given_at),
        }


# The words beside each optional consent's box, as the attendee agrees to them (stored in
# the language shown, with the time, in Consent.text).
CONSENT_TEXTS = {
    Consent.Purpose.PHOTOS: _("I agree to appear in photos and in the live stream of the conference."),
    Consent.Purpose.MESSAGES: _(
        "Send me the organisers' optional messages too (news, surveys, invitations), "
        "not only the ones I need to take part."
    ),
}


class ConferenceRetention(Conference):
    """A conference as its personal data's erasure sees it: the admin's overview of what goes when."""

    class Meta:
        proxy = True
        verbose_name = _("personal data retention")
        verbose_name_plural = _("personal data retention")


class ExportRecord(models.Model):
    """One download of an attendee list: who took which personal data, when, and how much."""

    class Kind(models.TextChoices):
        ATTENDEES = "attendees", _("Attendee list")
        CHECK_IN = "check_in", _("Check-in list")
        SESSION = "session", _("Session list")
        SELECTION = "selection", _("Selected registrations (admin)")

    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="export_records", verbose_name=_("conference")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exported by"),
    )
    # Kept apart from the account so the record still says who after the account is deleted.
    user_email = models.EmailField(_("email of the exporter"))
    kind = models.CharField(_("list"), max_length=20, choices=Kind.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    # Counted while the file streams; stays empty if the download never started.
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    created_at = models.DateTimeField(_("exported at"), default=timezone.now, editable=False)
    # Empty when the download was interrupted before its last row.
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export records")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["conference", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["attendees", "check_in", "session", "selection"]), name="export_record_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user_email} #{self.pk}"


class ProgrammeFeed(models.Model):
    """The secret address of a person's own programme of a conference as a calendar feed.
    The token is the only key (calendar apps cannot log in); a new one revokes the old."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="programme_feeds")
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="programme_feeds")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("programme calendar feed")
        verbose_name_plural = _("programme calendar feeds")
        constraints = [
            models.UniqueConstraint(fields=["user", "conference"], name="one_programme_feed_per_user_and_conference")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.conference}"

    def get_absolute_url(self) -> str:
        return reverse("registration:my_programme_feed", kwargs={"slug": self.conference.slug, "token": self.token})


class MessageQuerySet(models.QuerySet):
    def with_counts(self):
        """Each message with its outbox rows counted by status (queued counts those being sent too)."""

        def counted(*statuses):
            kind = Concat(Value("message:"), Cast(OuterRef("pk"), models.CharField()))
            rows = OutgoingEmail.objects.filter(conference=OuterRef("conference"), kind=kind, status__in=statuses)
            return Coalesce(Subquery(rows.order_by().values("conference").annotate(n=Count("pk")).values("n")[:1]), 0)

        return self.annotate(
            queued_count=counted(OutgoingEmail.Status.QUEUED, OutgoingEmail.Status.SENDING),
            sent_count=counted(OutgoingEmail.Status.SENT),
            failed_count=counted(OutgoingEmail.Status.FAILED),
        )


class Message(models.Model):
    """A message from the organisers to an audience of one conference's attendees, written in
    one language and optionally translated; each recipient gets it once, in their language,
    through the outbox (registration.messaging)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    class CheckedIn(models.TextChoices):
        ANY = "", _("Checked in or not")
        YES = "yes", _("Checked in")
        NO = "no", _("Not checked in")

    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conference")
    )
    # The audience: registrations with one of these statuses, narrowed by the fields below.
    statuses = models.JSONField(_("registration statuses"), default=list)
    pre_event = models.ForeignKey(
        Session,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked on the pre-event"),
    )
    checked_in = models.CharField(_("check-in"), max_length=3, choices=CheckedIn.choices, blank=True, default="")
    countries = models.JSONField(_("countries"), default=list, blank=True)
    organisation_types = models.JSONField(_("organisation types"), default=list, blank=True)
    essential = models.BooleanField(
        _("essential"),
        default=False,
        help_text=_("Essential messages also reach the attendees who have not agreed to optional messages."),
    )
    language = models.CharField(
        _("written in"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("message (English)"), blank=True)
    subject_es = models.CharField(_("subject (Spanish)"), max_length=200, blank=True)
    body_es = models.TextField(_("message (Spanish)"), blank=True)
    subject_fr = models.CharField(_("subject (French)"), max_length=200, blank=True)
    body_fr = models.TextField(_("message (French)"), blank=True)
    subject_de = models.CharField(_("subject (German)"), max_length=200, blank=True)
    body_de = models.TextField(_("message (German)"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    send_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    # How many the audience counted when sending started, as the confirmation said.
    recipient_count = models.PositiveIntegerField(_("recipients"), null=True, blank=True)
    # The last registration queued: the sending task carries on after it.
    queued_up_to = models.PositiveBigIntegerField(default=0, editable=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message to attendees")
        verbose_name_plural = _("messages to attendees")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["draft", "sending", "sent"]), name="message_state_valid"),
            models.CheckConstraint(condition=Q(checked_in__in=["", "yes", "no"]), name="message_checked_in_valid"),
        ]

    def __str__(self) -> str:
        return self.subject(self.language) or gettext("(no subject)")

    @property
    def email_kind(self) -> str:
        """The kind of its outbox rows, by which they are counted."""
        return f"message:{self.pk}"

    def text_in(self, language: str) -> tuple[str, str]:
        """The subject and body in `language`, or as written where that translation is missing."""
        subject, body = getattr(self, f"subject_{language}", ""), getattr(self, f"body_{language}", "")
        if subject.strip() and body.strip():
            return subject, body
        return getattr(self, f"subject_{self.language}"), getattr(self, f"body_{self.language}")

    def subject(self, language: str) -> str:
        return self.text_in(language)[0]
