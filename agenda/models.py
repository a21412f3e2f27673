import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import global_settings, settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from conference.times import named_moment

# First path segments the site uses itself; a conference slug may not take them.
RESERVED_SLUGS = frozenset(
    {
        "accessibility",
        "accounts",
        "admin",
        "api",
        "healthz",
        "i18n",
        "media",
        "static",
        "staff",
        "robots.txt",
        "favicon.ico",
    }
)

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]

# The languages a session can be held in: every one Django can name, less the regional
# variants (es-mx, pt-br) of a language that is there itself.
_DJANGO_LANGUAGES = dict(global_settings.LANGUAGES)
SESSION_LANGUAGES = {
    code: name
    for code, name in _DJANGO_LANGUAGES.items()
    if "-" not in code or code.split("-")[0] not in _DJANGO_LANGUAGES
}


def session_language_choices() -> list[tuple[str, str]]:
    """The session languages, named and sorted in the active language (Django translates the names)."""
    named = [(code, gettext(name)) for code, name in SESSION_LANGUAGES.items()]
    return sorted(named, key=lambda choice: choice[1].casefold())


def validate_not_reserved(slug: str) -> None:
    if slug.lower() in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is used by the site itself; choose another short name."),
            params={"slug": slug},
            code="reserved",
        )


class TranslatedModel(models.Model):
    """A model whose content organisers give in several languages (agenda/translation.py).

    Saved with the default language active, so each untranslated column (`title` beside
    title_en, title_es ...) holds the original text: SQL that reads it directly, such as
    another app's join, gets one language, not whichever the last editor used.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            super().save(*args, **kwargs)


class ConferenceQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True, is_cancelled=False)


class Conference(TranslatedModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("short name"),
        max_length=60,
        unique=True,
        validators=[validate_not_reserved],
        help_text=_("Used in addresses, e.g. /growyourregion/. Lowercase letters, digits and hyphens."),
    )
    tagline = models.CharField(_("tagline"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    timezone = models.CharField(_("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Brussels")
    capacity = models.PositiveIntegerField(_("places"), help_text=_("How many people can attend."))
    registration_opens = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes = models.DateTimeField(_("registration closes"), null=True, blank=True)
    requires_approval = models.BooleanField(
        _("registrations need approval"),
        default=False,
        help_text=_("Organisers approve or reject each registration before it is confirmed."),
    )
    is_published = models.BooleanField(_("published"), default=False)
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    contact_email = models.EmailField(_("contact email"), blank=True)
    privacy_statement = models.TextField(
        _("privacy statement"),
        blank=True,
        help_text=_("Attendees agree to this text when they register; the exact text is kept with each registration."),
    )
    # How long the registrations' personal data is kept after the last day (the statement
    # on the registration form quotes the date; registration.privacy erases it then).
    personal_data_months = models.PositiveSmallIntegerField(
        _("keep personal data for (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_(
            "Months after the last day. Then the registrations' names, addresses and answers are erased; "
            "the rows stay, without them, for the figures."
        ),
    )
    sensitive_answers_days = models.PositiveSmallIntegerField(
        _("keep dietary and accessibility answers for (days)"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "Days after the last day. These answers can reveal health or religion, so they go first: "
            "0 erases them right after the conference."
        ),
    )
    # Raised by every organiser edit of the conference or its programme: the key of
    # all cached public pages and exports, so an edit makes them stale at once.
    content_version = models.PositiveIntegerField(default=1, editable=False)
    # Kept by the database alone, from the registrations themselves (triggers of the
    # registration app's migration 0007): the registration service reads them with the
    # conference row it locks anyway, instead of counting the registrations each time. A
    # save() from Python never changes them, whatever values the instance holds.
    last_registration_number = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    confirmed_registrations = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    waiting_registrations = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("conference")
        verbose_name_plural = _("conferences")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="conference_ends_after_it_starts",
                violation_error_message=_("The last day cannot be before the first day."),
            ),
            models.CheckConstraint(
                condition=~Q(In(Lower("slug"), sorted(RESERVED_SLUGS))),
                name="conference_slug_not_reserved",
                violation_error_message=_("This short name is used by the site itself; choose another."),
            ),
            models.CheckConstraint(
                condition=Q(registration_closes__isnull=True)
                | Q(registration_opens__isnull=True)
                | Q(registration_closes__gt=models.F("registration_opens")),
                name="registration_closes_after_it_opens",
                violation_error_message=_("Registration must close after it opens."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("agenda:conference", kwargs={"slug": self.slug})

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def starts_at(self) -> dt.datetime:
        """Midnight of the first day, in the conference's time zone."""
        return dt.datetime.combine(self.start_date, dt.time.min, tzinfo=self.tz)

    @property
    def ends_at(self) -> dt.datetime:
        """Midnight after the last day, in the conference's time zone."""
        return dt.datetime.combine(self.end_date + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)

    @property
    def has_started(self) -> bool:
        return timezone.now() >= self.starts_at

    @property
    def has_ended(self) -> bool:
        return timezone.now() >= self.ends_at

    @property
    def personal_data_erased_at(self) -> dt.datetime:
        """When the registrations' personal data is erased: the end plus the months kept."""
        return self.ends_at + relativedelta(months=self.personal_data_months)

    @property
    def sensitive_answers_erased_at(self) -> dt.datetime:
        """When the dietary and accessibility answers are erased: never after the rest."""
        return min(self.ends_at + dt.timedelta(days=self.sensitive_answers_days), self.personal_data_erased_at)

    @property
    def registration_state(self) -> "RegistrationState":
        """Where registration stands now, and what the pages say about it: the one place
        that decides whether the conference takes registrations."""
        now = timezone.now()
        if self.is_cancelled or not self.is_published:
            return RegistrationState(RegistrationState.UNAVAILABLE, _("This conference does not take registrations."))
        if self.has_ended:
            return RegistrationState(RegistrationState.OVER, _("This conference has taken place."))
        if self.registration_opens and now < self.registration_opens:
            return RegistrationState(
                RegistrationState.UPCOMING,
                _("Registration opens on %(when)s.") % {"when": self.moment(self.registration_opens)},
            )
        if self.registration_closes and now >= self.registration_closes:
            return RegistrationState(
                RegistrationState.CLOSED,
                _("Registration closed on %(when)s.") % {"when": self._last_moment(self.registration_closes)},
            )
        if self.registration_closes:
            return RegistrationState(
                RegistrationState.OPEN,
                _("Registration is open until %(when)s.") % {"when": self._last_moment(self.registration_closes)},
            )
        return RegistrationState(RegistrationState.OPEN, _("Registration is open."))

    def moment(self, moment: dt.datetime) -> str:
        """A moment as the conference's readers say it: its date and time in its zone, zone
        named. Everything of a conference that names a time (pages, messages, the names of
        rows in the admin) says it this way."""
        return named_moment(moment, self.timezone)

    def _last_moment(self, closes: dt.datetime) -> str:
        """The last minute before `closes`, which readers take for the end of a window: a
        window closing at 00:00 on the 9th is open "until the 8th, 23:59", not "the 9th, 00:00"."""
        return self.moment(
            closes - dt.timedelta(minutes=1) if timezone.localtime(closes, self.tz).time() == dt.time.min else closes
        )


@dataclass(frozen=True)
class RegistrationState:
    """Whether a conference takes registrations now (`state`), and the sentence that says so."""

    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"
    OVER = "over"
    UNAVAILABLE = "unavailable"

    state: str
    message: str

    @property
    def is_open(self) -> bool:
        return self.state == self.OPEN


class Room(TranslatedModel):
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("name"), max_length=100)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "name"], name="room_name_unique_per_conference"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0),
                name="room_capacity_positive",
                violation_error_message=_("A room holds at least one person; leave the capacity empty if unknown."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Track(TranslatedModel):
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(_("name"), max_length=100)
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default="#1d4ed8",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Give a colour as #rrggbb, e.g. #1d4ed8."))],
    )

    class Meta:
        verbose_name = _("track")
        verbose_name_plural = _("tracks")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "name"], name="track_name_unique_per_conference"),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="track_colour_is_hex",
                violation_error_message=_("Give a colour as #rrggbb, e.g. #1d4ed8."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Speaker(TranslatedModel):
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="speakers")
    code = models.SlugField(_("code"), max_length=20, help_text=_("Short and stable; used in the address."))
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(
        _("title or role"),
        max_length=300,
        blank=True,
        help_text=_("e.g. President of the Valencia Regional Government"),
    )
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    country = CountryField(_("country"), blank=True)
    biography = models.TextField(_("biography"), blank=True)
    photo = models.ImageField(
        _("photo"),
        upload_to="speakers/",
        blank=True,
        # Served as they are by the web server: only the image types browsers show inline.
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp"])],
        help_text=_("A JPEG, PNG or WebP image."),
    )
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "code"], name="speaker_code_unique_per_conference"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("agenda:speaker", kwargs={"slug": self.conference.slug, "code": self.code})


class SessionQuerySet(models.QuerySet):
    def with_sign_up(self):
        """Sessions of the kinds attendees book a seat on, whatever their status."""
        return self.filter(kind__in=Session.BOOKABLE_KINDS)

    def bookable(self):
        """Sessions attendees can book now: of a kind with sign-up, and not cancelled."""
        return self.with_sign_up().filter(status=Session.Status.CONFIRMED)


class Session(TranslatedModel):
    class Kind(models.TextChoices):
        KEYNOTE = "keynote", _("Keynote")
        PLENARY = "plenary", _("Plenary")
        PANEL = "panel", _("Panel")
        PRE_EVENT = "pre_event", _("Parallel pre-event")
        WORKSHOP = "workshop", _("Workshop")
        DISCUSSION = "discussion", _("Group discussion")
        VOTING = "voting", _("Smart voting")
        BILATERAL = "bilateral", _("Bilateral meetings")
        BREAK = "break", _("Break")
        NETWORKING = "networking", _("Networking")

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    # Kinds that attendees book a seat on when they register.
    BOOKABLE_KINDS = frozenset({Kind.PRE_EVENT, Kind.WORKSHOP})

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="sessions")
    code = models.SlugField(_("code"), max_length=20, help_text=_("Short and stable; used in the address."))
    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PLENARY)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    room = models.ForeignKey(
        Room,
        # A room in use cannot be deleted, but its conference can, with all its sessions.
        on_delete=models.RESTRICT,
        related_name="sessions",
        null=True,
        blank=True,
        verbose_name=_("room"),
        help_text=_("Leave empty for a break or plenary that spans all rooms."),
    )
    track = models.ForeignKey(
        Track, on_delete=models.SET_NULL, related_name="sessions", null=True, blank=True, verbose_name=_("track")
    )
    speakers = models.ManyToManyField(Speaker, through="SessionSpeaker", related_name="sessions", blank=True)
    abstract = models.TextField(_("abstract"), blank=True)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveIntegerField(
        _("seats"),
        null=True,
        blank=True,
        help_text=_("For pre-events and workshops that need sign-up; empty means the room's capacity."),
    )
    language = models.CharField(_("language"), max_length=10, choices=session_language_choices, default="en")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Raised on each change, for iCalendar's SEQUENCE.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["start", "room__position", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="session_ends_after_it_starts",
                violation_error_message=_("A session must end after it starts."),
            ),
            models.UniqueConstraint(fields=["conference", "code"], name="session_code_unique_per_conference"),
            # The choices, in the database too (a test keeps the lists equal to them).
            models.CheckConstraint(condition=Q(status__in=["confirmed", "cancelled"]), name="session_status_valid"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "keynote",
                        "plenary",
                        "panel",
                        "pre_event",
                        "workshop",
                        "discussion",
                        "voting",
                        "bilateral",
                        "break",
                        "networking",
                    ]
                ),
                name="session_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0),
                name="session_capacity_positive",
                violation_error_message=_("Seats must be at least one; leave empty to use the room's capacity."),
            ),
        ]
        indexes = [models.Index(fields=["conference", "start"], name="session_conference_start")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("agenda:session", kwargs={"slug": self.conference.slug, "code": self.code})

    def clean(self) -> None:
        # Rooms and tracks belong to one conference; a foreign key alone cannot say so.
        errors = {}
        if self.room_id and self.conference_id and self.room.conference_id != self.conference_id:
            errors["room"] = _("Choose a room of this session's conference.")
        if self.track_id and self.conference_id and self.track.conference_id != self.conference_id:
            errors["track"] = _("Choose a track of this session's conference.")
        if errors:
            raise ValidationError(errors)

    @property
    def kind_label(self) -> str:
        # get_kind_display() hashes every choice on each call: too slow for 300 sessions.
        return str(self.Kind(self.kind).label)

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def is_bookable(self) -> bool:
        return self.kind in self.BOOKABLE_KINDS and self.status == self.Status.CONFIRMED

    @property
    def seats(self) -> int | None:
        """The seats attendees can book: the session's own number, else its room's."""
        if self.capacity is not None:
            return self.capacity
        return self.room.capacity if self.room_id else None


class SessionSpeaker(models.Model):
    class Role(models.TextChoices):
        SPEAKER = "speaker", _("Speaker")
        MODERATOR = "moderator", _("Moderator")
        CHAIR = "chair", _("Chair")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="session_speakers")
    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="session_speakers")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SPEAKER)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("speaker of a session")
        verbose_name_plural = _("speakers of the session")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "speaker"], name="speaker_once_per_session"),
            models.CheckConstraint(
                condition=Q(role__in=["speaker", "moderator", "chair"]), name="session_speaker_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker} ({self.get_role_display()})"

    def clean(self) -> None:
        if self.speaker_id and self.session_id and self.speaker.conference_id != self.session.conference_id:
            raise ValidationError({"speaker": _("Choose a speaker of this session's conference.")})


class Star(models.Model):
    """A session someone marked for their own programme."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("starred session")
        verbose_name_plural = _("starred sessions")
        constraints = [models.UniqueConstraint(fields=["user", "session"], name="star_once_per_user_and_session")]

    def __str__(self) -> str:
        return f"{self.user} ☆ {self.session}"
