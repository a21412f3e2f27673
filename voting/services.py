"""Every write to polls, votes and questions.

Locks, the same everywhere: a vote takes a SHARE lock on its poll's row (raw SQL:
Django has no FOR SHARE), so votes in one poll run side by side, while opening, closing
and revealing take FOR UPDATE on every poll of the session, in primary-key order: a
close waits for the votes already under way and every vote after it sees the poll
closed. A vote is inserted in one statement that the unique constraint decides (ON
CONFLICT DO NOTHING): two submits of one person racing to insert, the second waits for
the first to commit, inserts nothing, and then changes that vote (locked FOR UPDATE
first) or is refused, as the poll says. A question's row is locked before the moderator
changes it. Nothing is counted in Python: results are always counted from the rows
(voting.selectors).
"""

import secrets
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agenda.models import Session
from agenda.services import bump_content_version
from conference.validators import validate_line
from voting.exceptions import (
    AlreadyVoted,
    InvalidAnswer,
    InvalidTransition,
    NotAllowed,
    PollNotOpen,
    QuestionsClosed,
)
from voting.identity import Voter
from voting.models import (
    ANSWER_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    Answer,
    Option,
    Poll,
    Question,
    SessionVoting,
    Upvote,
    Vote,
)

State = Poll.State
Kind = Poll.Kind
# No 0/O or 1/I: a join code is read off a screen across a hall.
JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6


def cast_vote(
    poll: Poll, *, voter: Voter, options: Sequence[int] = (), value: int | None = None, text: str = ""
) -> Vote:
    """Record `voter`'s vote in `poll`, or change it where the poll allows.

    `options` are option ids (for a ranking, in the voter's order, first = best), `value`
    a rating, `text` an open answer; what the poll's kind does not use must be empty.
    Takes a SHARE lock on the poll row; a new vote is one INSERT, a change locks the
    voter's existing vote (FOR UPDATE) first.
    Raises NotAllowed, PollNotOpen, InvalidAnswer or AlreadyVoted, and then counts nothing.
    """
    if not voter.may_take_part(poll.session):
        raise NotAllowed
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT state FROM voting_poll WHERE id = %s FOR SHARE", [poll.pk])
            row = cursor.fetchone()
        if row is None or row[0] != State.OPEN:
            raise PollNotOpen
        answers = _answers(poll, options=list(options), value=value, text=text)
        key = voter.poll_key(poll)
        vote = _insert_vote(poll, key=key, fields=_voter_fields(poll, voter))
        if vote is None:
            # The person has voted already (or their other submit just did): theirs to
            # change, or final.
            if not poll.votes_can_change:
                raise AlreadyVoted
            vote = Vote.objects.select_for_update().get(poll=poll, voter_key=key)
            vote.answers.all().delete()
            vote.save(update_fields=["updated_at"])
        for answer in answers:
            answer.vote = vote
        Answer.objects.bulk_create(answers)
    return vote


def _insert_vote(poll: Poll, *, key: str, fields: dict) -> Vote | None:
    """The person's new vote, inserted in one statement; None when they have one already.

    ON CONFLICT DO NOTHING on the unique constraint: a second submit of the same person
    waits for the first to commit and then inserts nothing, without a savepoint or a
    look-up first (the first vote of each voter is the common case, hundreds a second)."""
    now = timezone.now()
    vote = Vote(poll=poll, voter_key=key, created_at=now, updated_at=now, **fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO voting_vote (poll_id, voter_key, user_id, country, organisation_type, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id",
            [poll.pk, key, vote.user_id, vote.country, vote.organisation_type, now, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    vote.pk = row[0]
    vote._state.adding, vote._state.db = False, connection.alias
    return vote


def _voter_fields(poll: Poll, voter: Voter) -> dict:
    registration = voter.registration
    return {
        "user": None if poll.is_anonymous else voter.user,
        "country": str(registration.country) if registration else "",
        "organisation_type": registration.organisation_type if registration else "",
    }


def _answers(poll: Poll, *, options: list[int], value: int | None, text: str) -> list[Answer]:
    """The answers a vote is made of, once they are known to fit the poll."""
    if poll.has_options:
        if value is not None or text:
            raise InvalidAnswer
        if not options:
            raise InvalidAnswer(_("Choose an option."))
        if not all(isinstance(pk, int) and 0 < pk < 2**63 for pk in options):
            raise InvalidAnswer(_("Choose among this poll's options."))
        if len(set(options)) != len(options):
            raise InvalidAnswer(_("Choose each option only once."))
        known = set(Option.objects.filter(poll=poll, pk__in=options).values_list("pk", flat=True))
        if known != set(options):
            raise InvalidAnswer(_("Choose among this poll's options."))
        if poll.kind == Kind.SINGLE and len(options) > 1:
            raise InvalidAnswer(_("Choose one option."))
        if poll.kind == Kind.MULTIPLE and len(options) > poll.max_choices:
            raise InvalidAnswer(_("Choose at most %(count)d options.") % {"count": poll.max_choices})
        ranked = poll.kind == Kind.RANKING
        return [Answer(option_id=pk, rank=index if ranked else None) for index, pk in enumerate(options, start=1)]
    if options:
        raise InvalidAnswer
    if poll.kind == Kind.RATING:
        if text or value is None or not 1 <= value <= poll.scale:
            raise InvalidAnswer(_("Choose a rating from 1 to %(scale)d.") % {"scale": poll.scale})
        return [Answer(value=value)]
    if value is not None:
        raise InvalidAnswer
    return [Answer(text=clean_text(text, max_length=ANSWER_MAX_LENGTH, error=InvalidAnswer))]


def clean_text(text: str, *, max_length: int, error: type[Exception]) -> str:
    """`text` on one line without surrounding spaces, refused with `error` when empty, too
    long or with hidden characters. Line breaks (a question typed in a text area) become spaces."""
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").strip()
    if not text:
        raise error(_("Write an answer."))
    if len(text) > max_length:
        raise error(_("Keep it to %(count)d characters.") % {"count": max_length})
    try:
        validate_line(text)
    except ValidationError as invalid:
        raise error(invalid.messages[0]) from None
    return text


def _lock_polls(session_id: int) -> dict[int, Poll]:
    return {poll.pk: poll for poll in Poll.objects.select_for_update().filter(session_id=session_id).order_by("pk")}


def open_poll(poll: Poll) -> Poll:
    """Open a draft poll for votes. Locks the session's polls; one may be open at a time
    (the partial unique constraint stands behind the check). Raises InvalidTransition."""
    with transaction.atomic():
        polls = _lock_polls(poll.session_id)
        poll = polls[poll.pk]
        if poll.state != State.DRAFT:
            raise InvalidTransition(_("Only a draft poll can be opened."))
        other = next((other for other in polls.values() if other.state == State.OPEN), None)
        if other is not None:
            raise InvalidTransition(_("Close “%(question)s” first: one poll is open at a time.") % {"question": other})
        if poll.has_options and poll.options.count() < 2:
            raise InvalidTransition(_("Give the poll at least two options before it opens."))
        poll.state, poll.opened_at = State.OPEN, timezone.now()
        poll.save(update_fields=["state", "opened_at"])
    return poll


def close_poll(poll: Poll) -> Poll:
    """Stop the votes of an open poll. Waits, on the poll locks, for the votes under way."""
    with transaction.atomic():
        poll = _lock_polls(poll.session_id)[poll.pk]
        if poll.state != State.OPEN:
            raise InvalidTransition(_("Only an open poll can be closed."))
        poll.state, poll.closed_at = State.CLOSED, timezone.now()
        poll.save(update_fields=["state", "closed_at"])
    return poll


def reveal_poll(poll: Poll) -> Poll:
    """Show a closed poll's results to everyone, on the session's page too: the conference's
    cached pages go stale (its row is locked first, as every programme edit does)."""
    with transaction.atomic():
        bump_content_version(poll.session.conference_id)
        poll = _lock_polls(poll.session_id)[poll.pk]
        if poll.state != State.CLOSED:
            raise InvalidTransition(_("Only a closed poll's results can be shown."))
        poll.state = State.REVEALED
        poll.save(update_fields=["state"])
    return poll


def set_join_code(session: Session, *, enabled: bool) -> SessionVoting:
    """Give the session a fresh join code for guests, or take it away (guests already in stay in)."""
    with transaction.atomic():
        settings, _created = SessionVoting.objects.select_for_update().get_or_create(session=session)
        if not enabled:
            settings.join_code = ""
            settings.save(update_fields=["join_code"])
            return settings
        while True:
            settings.join_code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
            try:
                with transaction.atomic():
                    settings.save(update_fields=["join_code"])
                    return settings
            except IntegrityError:
                continue  # another session holds that code: draw again


def set_questions(session: Session, *, enabled: bool) -> SessionVoting:
    """Start or stop taking questions in the session."""
    with transaction.atomic():
        settings, _created = SessionVoting.objects.select_for_update().get_or_create(session=session)
        settings.takes_questions = enabled
        settings.save(update_fields=["takes_questions"])
    return settings


def ask_question(session: Session, *, voter: Voter, text: str) -> Question:
    """Submit a question for the moderator. Raises NotAllowed, QuestionsClosed or InvalidAnswer."""
    if not voter.may_take_part(session):
        raise NotAllowed
    if not SessionVoting.objects.filter(session=session, takes_questions=True).exists():
        raise QuestionsClosed
    text = clean_text(text, max_length=QUESTION_MAX_LENGTH, error=InvalidAnswer)
    return Question.objects.create(session=session, text=text, author_key=voter.session_key(session))


def upvote_question(question: Question, *, voter: Voter) -> bool:
    """Add `voter`'s upvote to a shown question; False if they had already (the unique constraint decides)."""
    if not voter.may_take_part(question.session):
        raise NotAllowed
    if question.status != Question.Status.APPROVED:
        raise InvalidTransition(_("Only questions waiting for an answer can be upvoted."))
    try:
        with transaction.atomic():
            Upvote.objects.create(question=question, voter_key=voter.session_key(question.session))
    except IntegrityError:
        return False
    return True


MODERATION = {
    # action: (the states it may start from, the new status, pinned after)
    "approve": ({Question.Status.PENDING, Question.Status.HIDDEN}, Question.Status.APPROVED, False),
    "hide": (set(Question.Status), Question.Status.HIDDEN, False),
    "pin": ({Question.Status.PENDING, Question.Status.APPROVED}, Question.Status.APPROVED, True),
    "unpin": ({Question.Status.APPROVED}, Question.Status.APPROVED, False),
    "answered": ({Question.Status.APPROVED}, Question.Status.ANSWERED, False),
}


def moderate_question(question: Question, *, action: str) -> Question:
    """Approve, hide, pin, unpin or mark answered (MODERATION). Locks the question's row."""
    if action not in MODERATION:
        raise InvalidTransition
    starts, status, pinned = MODERATION[action]
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        if question.status not in starts:
            raise InvalidTransition(_("This question's status does not allow that."))
        question.status, question.is_pinned = status, pinned
        question.save(update_fields=["status", "is_pinned", "updated_at"])
    return question
