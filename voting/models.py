"""Live polls and questions from the room, attached to a session of the programme.

Anonymity: a vote never names its voter unless its poll says so before it opens. What
makes a vote unique per person is `voter_key`, a keyed hash of the person and the poll
(voting.identity): the same person gets a different key in every poll, and nobody
without the site's secret key can tell whose it is. The country and organisation type
copied onto a vote are only ever shown in groups of at least five (voting.selectors).
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, Q, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agenda.models import Session

# The longest open answer: a few words for a word cloud, not an essay.
ANSWER_MAX_LENGTH = 60
QUESTION_MAX_LENGTH = 280


class SessionVoting(models.Model):
    """How a session takes part: whether it takes questions, and its join code for people
    following a stream who are not registered (empty: registered attendees only)."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="voting")
    join_code = models.CharField(
        _("join code"),
        max_length=12,
        blank=True,
        help_text=_("Lets anyone who has it vote and ask, e.g. people following a stream. Empty: attendees only."),
    )
    takes_questions = models.BooleanField(_("takes questions"), default=False)

    class Meta:
        verbose_name = _("voting in a session")
        verbose_name_plural = _("voting in sessions")
        constraints = [
            models.UniqueConstraint(fields=["join_code"], condition=~Q(join_code=""), name="join_code_unique_when_set"),
            models.CheckConstraint(
                condition=Q(join_code="") | Q(join_code__regex=r"^[A-Z2-9]{6,12}$"),
                name="join_code_letters_and_digits",
                violation_error_message=_("A join code is 6 to 12 capital letters and digits."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.session)


class Poll(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        RANKING = "ranking", _("Ranking")
        RATING = "rating", _("Rating scale")
        OPEN = "open", _("Open short answer")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        REVEALED = "revealed", _("Results shown")

    # Kinds whose answers are the poll's options.
    KINDS_WITH_OPTIONS = frozenset({Kind.SINGLE, Kind.MULTIPLE, Kind.RANKING})

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="polls", verbose_name=_("session"))
    question = models.CharField(_("question"), max_length=300)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    max_choices = models.PositiveSmallIntegerField(
        _("choices allowed"), default=1, help_text=_("For multiple choice: how many options a voter may tick.")
    )
    scale = models.PositiveSmallIntegerField(
        _("scale"), default=5, help_text=_("For a rating scale: from 1 to this number (2 to 10).")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT, editable=False)
    is_anonymous = models.BooleanField(
        _("anonymous"),
        default=True,
        help_text=_("Nobody, organisers included, can see who voted what. Fixed once the poll opens."),
    )
    votes_can_change = models.BooleanField(
        _("votes can change"), default=True, help_text=_("Voters may change their vote until the poll closes.")
    )
    outcome = models.TextField(
        _("reported outcome"),
        blank=True,
        help_text=_("For a poll held elsewhere: the result as it was reported. Shown with the results."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        ordering = ["session", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["draft", "open", "closed", "revealed"]), name="poll_state_known"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["single", "multiple", "ranking", "rating", "open"]), name="poll_kind_known"
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(state="open"),
                name="one_open_poll_per_session",
                violation_error_message=_("Another poll of this session is open; close it first."),
            ),
            models.CheckConstraint(
                condition=Q(max_choices__gte=1),
                name="poll_allows_a_choice",
                violation_error_message=_("Allow at least one choice."),
            ),
            models.CheckConstraint(
                condition=Q(scale__gte=2, scale__lte=10),
                name="poll_scale_2_to_10",
                violation_error_message=_("A rating scale goes from 1 to a number between 2 and 10."),
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(opened_at__isnull=False), name="poll_opened_when_not_draft"
            ),
        ]

    def __str__(self) -> str:
        return self.question

    def get_absolute_url(self) -> str:
        return reverse("voting:vote", kwargs={"slug": self.session.conference.slug})

    @property
    def has_options(self) -> bool:
        return self.kind in self.KINDS_WITH_OPTIONS

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class Option(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("option"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["poll", "label"], name="option_label_unique_per_poll")]

    def __str__(self) -> str:
        return self.label


class Vote(models.Model):
    """One person's vote in one poll; its answers say what they chose."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    # A keyed hash of the person and the poll (voting.identity): unique per poll, names nobody.
    voter_key = models.CharField(max_length=64, editable=False)
    # Only for a poll that is not anonymous.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # From the voter's registration, for the breakdowns; empty for guests with the join code.
    country = models.CharField(max_length=2, blank=True)
    organisation_type = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["poll", "voter_key"], name="one_vote_per_person_and_poll"),
        ]

    def __str__(self) -> str:
        return f"{self.poll} #{self.pk}"


class Answer(models.Model):
    """One part of a vote: a chosen option (with its rank in a ranking), a rating, or a short text."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="answers")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, null=True, blank=True, related_name="answers")
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    value = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.CharField(max_length=ANSWER_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.CheckConstraint(
                condition=Q(option__isnull=False, value__isnull=True, text="")
                | Q(option__isnull=True, rank__isnull=True, value__isnull=False, text="")
                | (Q(option__isnull=True, rank__isnull=True, value__isnull=True) & ~Q(text="")),
                name="answer_is_an_option_a_rating_or_a_text",
            ),
            models.UniqueConstraint(fields=["vote", "option"], name="option_once_per_vote"),
            models.UniqueConstraint(fields=["vote", "rank"], name="rank_once_per_vote"),
            models.CheckConstraint(condition=Q(rank__isnull=True) | Q(rank__gte=1), name="rank_from_1"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=1, value__lte=10), name="rating_1_to_10"
            ),
        ]

    def __str__(self) -> str:
        return str(self.option or self.value or self.text)


class QuestionQuerySet(models.QuerySet):
    def with_upvotes(self):
        """Pinned first, then the unanswered before the answered, the most upvoted, the oldest."""
        return self.annotate(upvote_total=Count("upvotes")).order_by(
            "-is_pinned",
            Case(When(status=Question.Status.ANSWERED, then=1), default=0),
            "-upvote_total",
            "created_at",
            "id",
        )


class Question(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the moderator")
        APPROVED = "approved", _("Approved")
        ANSWERED = "answered", _("Answered")
        HIDDEN = "hidden", _("Hidden")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(_("question"), max_length=QUESTION_MAX_LENGTH)
    # Who asked, as a keyed hash (voting.identity), so they see their own question while it waits.
    author_key = models.CharField(max_length=64, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved by every moderation: part of the screen's version (selectors.screen_version).
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "answered", "hidden"]), name="question_status_known"
            ),
            models.CheckConstraint(
                condition=Q(is_pinned=False) | Q(status="approved"), name="only_approved_questions_are_pinned"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Upvote(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="upvotes")
    voter_key = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("upvote")
        verbose_name_plural = _("upvotes")
        constraints = [models.UniqueConstraint(fields=["question", "voter_key"], name="one_upvote_per_person")]

    def __str__(self) -> str:
        return f"+1 {self.question}"
