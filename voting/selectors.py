"""Reads that several pages share: the live sessions, results and their breakdowns.

Results are counted from the rows on every read (a few aggregate queries, however many
polls), never kept as counters: what the screen shows is what the database holds.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, Sum
from django.utils.translation import gettext as _
from django_countries import countries

from agenda.models import Conference, Session
from registration.models import Registration
from voting.models import Answer, Option, Poll, Question, SessionVoting, Vote

# Groups with fewer voters than this are merged into "other", so no one's vote can be inferred.
SMALLEST_GROUP = 5
# The open answers a word cloud shows.
CLOUD_SIZE = 30
DIMENSIONS = ("country", "organisation_type")


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int
    # Of the voters, 0–100.
    share: int
    # The bar's length as a share of the longest, 0–100.
    width: int


@dataclass(frozen=True)
class Results:
    poll: Poll
    voters: int
    rows: list[Row]
    # What `count` means in the rows: votes, points (ranking) or answers (open).
    unit: str
    average: float | None = None


def _rows(items: list[tuple[str, str, int]], voters: int, *, shares: bool = True) -> list[Row]:
    top = max((count for _key, _label, count in items), default=0)
    return [
        Row(
            key,
            label,
            count,
            round(100 * count / voters) if voters and shares else 0,
            max(1, round(100 * count / top)) if count and top else 0,
        )
        for key, label, count in items
    ]


def _points(chosen: int, rank_sum: int | None, options: int) -> int:
    """A ranking's score (Borda): n+1-rank points for each place given, n the number of options."""
    return chosen * (options + 1) - (rank_sum or 0)


def results(poll: Poll) -> Results:
    """The poll's results, counted now: two queries."""
    return results_of([poll])[poll.pk]


def results_of(polls: list[Poll]) -> dict[int, Results]:
    """The results of `polls` by poll id, counted now: one query for the voters, and one for
    each kind of answer among the polls (options, ratings, open answers), however many polls."""
    if not polls:
        return {}
    kinds = {poll.kind for poll in polls}
    ids = [poll.pk for poll in polls]
    voters = dict(
        Vote.objects.filter(poll__in=ids).values_list("poll").annotate(n=Count("id")).values_list("poll", "n")
    )
    options: dict[int, list[Option]] = {}
    if kinds & Poll.KINDS_WITH_OPTIONS:
        for option in Option.objects.filter(poll__in=ids).annotate(
            chosen=Count("answers"), rank_sum=Sum("answers__rank")
        ):
            options.setdefault(option.poll_id, []).append(option)
    ratings: dict[int, dict[int, int]] = {}
    if Poll.Kind.RATING in kinds:
        for poll_id, value, count in (
            Answer.objects.filter(vote__poll__in=ids, value__isnull=False)
            .values_list("vote__poll", "value")
            .annotate(n=Count("id"))
            .values_list("vote__poll", "value", "n")
        ):
            ratings.setdefault(poll_id, {})[value] = count
    words: dict[int, Counter] = {}
    if Poll.Kind.OPEN in kinds:
        for poll_id, text in (
            Answer.objects.filter(vote__poll__in=ids).exclude(text="").values_list("vote__poll", "text")
        ):
            words.setdefault(poll_id, Counter())[" ".join(text.split()).casefold()] += 1
    return {
        poll.pk: _results(
            poll, voters.get(poll.pk, 0), options.get(poll.pk, []), ratings.get(poll.pk, {}), words.get(poll.pk)
        )
        for poll in polls
    }


def _results(poll: Poll, voters: int, options: list[Option], ratings: dict[int, int], words: Counter | None) -> Results:
    if poll.kind == Poll.Kind.RANKING:
        items = [
            (str(option.pk), option.label, _points(option.chosen, option.rank_sum, len(options))) for option in options
        ]
        # Points are not a share of the voters.
        return Results(poll, voters, _rows(items, voters, shares=False), _("points"))
    if poll.has_options:
        items = [(str(option.pk), option.label, option.chosen) for option in options]
        return Results(poll, voters, _rows(items, voters), _("votes"))
    if poll.kind == Poll.Kind.RATING:
        items = [(str(value), str(value), ratings.get(value, 0)) for value in range(1, poll.scale + 1)]
        total = sum(value * count for value, count in ratings.items())
        average = round(total / voters, 1) if voters else None
        return Results(poll, voters, _rows(items, voters), _("votes"), average)
    items = [(word, word, count) for word, count in (words or Counter()).most_common(CLOUD_SIZE)]
    return Results(poll, voters, _rows(items, voters), _("answers"))


@dataclass
class Group:
    key: str
    label: str
    voters: int
    counts: dict[str, int] = field(default_factory=dict)
    # The counts in the order of the breakdown's columns.
    cells: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    title: str
    columns: list[Row]
    groups: list[Group]


def _group_label(dimension: str, key: str) -> str:
    if not key:
        return _("Not given")
    if dimension == "country":
        return str(countries.name(key)) or key
    return str(Registration.OrganisationType(key).label)


def breakdown(poll: Poll, dimension: str, *, overall: Results) -> Breakdown:
    """The poll's figures per country or organisation type: two queries."""
    return breakdowns_of({poll.pk: overall}, dimension)[poll.pk]


def breakdowns_of(overall: dict[int, Results], dimension: str) -> dict[int, Breakdown]:
    """The figures of the polls of `overall` (their results, by poll id) per country or
    organisation type, for organisers: two queries, however many polls.

    Groups of fewer than SMALLEST_GROUP voters are merged into "Other"; while "Other" is
    itself smaller than that, the smallest remaining group joins it, so no group of fewer
    than five is shown. Open answers are not broken down: a phrase can give its author away."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    title = _("By country") if dimension == "country" else _("By organisation type")
    polls = {pk: results.poll for pk, results in overall.items() if results.poll.kind != Poll.Kind.OPEN}
    groups: dict[int, dict[str, Group]] = {pk: {} for pk in overall}
    if polls:
        for poll_id, key, size in (
            Vote.objects.filter(poll__in=polls)
            .values_list("poll", dimension)
            .annotate(n=Count("id"))
            .values_list("poll", dimension, "n")
        ):
            groups[poll_id][key] = Group(key, _group_label(dimension, key), size)
        for poll_id, key, option, value, count, rank_sum in (
            Answer.objects.filter(vote__poll__in=polls)
            .values_list("vote__poll", f"vote__{dimension}", "option", "value")
            .annotate(n=Count("id"), rank_sum=Sum("rank"))
            .values_list("vote__poll", f"vote__{dimension}", "option", "value", "n", "rank_sum")
        ):
            poll = polls[poll_id]
            answer = str(value) if poll.kind == Poll.Kind.RATING else str(option)
            if poll.kind == Poll.Kind.RANKING:
                count = _points(count, rank_sum, len(overall[poll_id].rows))
            groups[poll_id][key].counts[answer] = count
    return {
        pk: Breakdown(dimension, title, results.rows, _merge_small(groups[pk], results.rows))
        for pk, results in overall.items()
    }


def _merge_small(groups: dict[str, Group], columns: list[Row]) -> list[Group]:
    shown = sorted(groups.values(), key=lambda group: (-group.voters, group.label))
    other = Group("", _("Other (groups of fewer than %(count)d)") % {"count": SMALLEST_GROUP}, 0)
    for group in [group for group in shown if group.voters < SMALLEST_GROUP]:
        _merge(other, group, shown)
    while other.voters and other.voters < SMALLEST_GROUP and shown:
        _merge(other, shown[-1], shown)
    # Fewer than five voters in all: nothing can be shown without pointing at someone.
    if other.voters >= SMALLEST_GROUP:
        shown.append(other)
    for group in shown:
        group.cells = [group.counts.get(column.key, 0) for column in columns]
    return shown


def _merge(other: Group, group: Group, shown: list[Group]) -> None:
    shown.remove(group)
    other.voters += group.voters
    for answer, count in group.counts.items():
        other.counts[answer] = other.counts.get(answer, 0) + count


def live_sessions(conference: Conference) -> list[Session]:
    """The conference's sessions with an open poll or taking questions, each with
    `open_poll` (or None) and its options: what the voter page shows. Two queries."""
    sessions = list(
        Session.objects.filter(conference=conference)
        .filter(Q(polls__state=Poll.State.OPEN) | Q(voting__takes_questions=True))
        .select_related("voting")
        .distinct()
        .order_by("start", "pk")
    )
    open_polls = {
        poll.session_id: poll
        for poll in Poll.objects.filter(session__in=sessions, state=Poll.State.OPEN).prefetch_related("options")
    }
    for session in sessions:
        session.open_poll = open_polls.get(session.pk)
    return sessions


def screen_version(session: Session, poll: Poll | None, *, language: str) -> str:
    """A digest that changes whenever the screen's content does: the poll and its state, its
    votes (a changed vote moves its `updated_at`), the questions (moderation moves theirs)
    and their upvotes. Two queries."""
    votes = Vote.objects.filter(poll=poll).aggregate(n=Count("id"), last=Max("updated_at")) if poll else {}
    questions = Question.objects.filter(session=session).aggregate(
        n=Count("id", distinct=True), last=Max("updated_at"), upvotes=Count("upvotes")
    )
    state = (language, poll and (poll.pk, poll.state), sorted(votes.items()), sorted(questions.items()))
    return hashlib.sha256(repr(state).encode()).hexdigest()[:20]


def own_answers(voter, polls: list[Poll]) -> dict[int, list[Answer]]:
    """The voter's current answers in each of `polls`, by poll id: one query."""
    if voter is None or not polls:
        return {}
    keys = [voter.poll_key(poll) for poll in polls]
    answers: dict[int, list[Answer]] = {}
    for answer in Answer.objects.filter(vote__voter_key__in=keys, vote__poll__in=polls).select_related("vote"):
        answers.setdefault(answer.vote.poll_id, []).append(answer)
    return answers


def shown_questions(session: Session, *, limit: int | None = None, voter=None) -> list[Question]:
    """The session's approved and answered questions, best first; with `voter`, also their
    own questions still waiting for the moderator."""
    shown = Q(status__in=[Question.Status.APPROVED, Question.Status.ANSWERED])
    if voter is not None:
        shown |= Q(status=Question.Status.PENDING, author_key=voter.session_key(session))
    questions = Question.objects.filter(session=session).filter(shown).with_upvotes()
    return list(questions[:limit] if limit else questions)


def session_voting(session: Session) -> SessionVoting:
    """The session's voting settings; unsaved defaults when it has none yet."""
    return SessionVoting.objects.filter(session=session).first() or SessionVoting(session=session)
