"""The voter page, the moderator's page, the big screen and the results export.

Voters: everyone may open the voter page; confirmed attendees vote and ask at once,
anyone else after giving a session's join code (when the organiser set one). Each POST
works without JavaScript (the answer is the page again, or a redirect to it);
static/js/voting.js sends the same POSTs and swaps the live part of the page in place.

Moderator, screen and export: team members with "run voting" (accounts.teams), and superusers.
"""

import csv
import hashlib
import json
import re
import time
from collections.abc import Iterator

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Case, When
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.html import format_html
from django.utils.http import quote_etag
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.teams import user_can
from agenda.models import Conference, Session
from conference.ratelimit import limit_posts
from registration.exports import neutralise
from voting import selectors, services
from voting.exceptions import AlreadyVoted, NotAllowed, PollNotOpen, VotingError
from voting.forms import JoinForm, QuestionForm, VoteForm
from voting.identity import rate_key, remember_guest, voter_for
from voting.models import Poll, Question, SessionVoting

PERMISSION = "can_run_voting"
# Per person, whether attendee or guest (settings.ACCOUNT_RATE_LIMITS).
limit_votes = limit_posts("voting_vote", key=rate_key)
limit_questions = limit_posts("voting_question", key=rate_key)


def _conference(slug: str) -> Conference:
    return get_object_or_404(Conference.objects.published(), slug=slug)


def _status(error: VotingError) -> int:
    if isinstance(error, NotAllowed):
        return 403
    if isinstance(error, PollNotOpen | AlreadyVoted):
        return 409
    return 400


def _voter_page(request: HttpRequest, conference: Conference, *, status: int = 200, bound=None) -> HttpResponse:
    """The voter page; `bound` is a form that came back with errors, shown in its place."""
    voter = voter_for(request, conference)
    sessions = selectors.live_sessions(conference)
    own = selectors.own_answers(voter, [session.open_poll for session in sessions if session.open_poll])
    for session in sessions:
        session.may_take_part = voter is not None and voter.may_take_part(session)
        poll = session.open_poll
        if poll is not None:
            session.has_voted = poll.pk in own
            session.vote_form = (
                bound if getattr(bound, "poll", None) == poll else VoteForm(poll=poll, answers=own.get(poll.pk))
            )
        session.question_form = (
            bound if isinstance(bound, QuestionForm) and bound.session == session else QuestionForm(prefix=session.code)
        )
        session.shown_questions = selectors.shown_questions(session, voter=voter)
    context = {
        "conference": conference,
        "sessions": sessions,
        "live_version": _live_version(sessions),
        "voter": voter,
        "join_form": bound if isinstance(bound, JoinForm) else JoinForm(),
    }
    return render(request, "voting/vote.html", context, status=status)


@require_GET
def vote(request: HttpRequest, slug: str) -> HttpResponse:
    return _voter_page(request, _conference(slug))


@require_GET
def live(request: HttpRequest, slug: str) -> HttpResponse:
    """What the voter page shows, as a version: voting.js fetches the page again when it moves."""
    sessions = selectors.live_sessions(_conference(slug))
    return _json_with_etag(request, {"version": _live_version(sessions)})


def _live_version(sessions: list[Session]) -> str:
    state = [(session.pk, session.open_poll.pk if session.open_poll else None) for session in sessions]
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def _back_to_voting(request: HttpRequest, slug: str) -> HttpResponse:
    """What a POST-only address answers to a GET: the voter page."""
    return redirect("voting:vote", slug=slug)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    if request.method != "POST":
        return _back_to_voting(request, slug)
    form = JoinForm(request.POST)
    if form.is_valid():
        settings = (
            SessionVoting.objects.filter(session__conference=conference, join_code=form.cleaned_data["code"])
            .exclude(join_code="")
            .select_related("session")
            .first()
        )
        if settings is not None:
            remember_guest(request, settings.session)
            messages.success(request, _("You have joined “%(session)s”.") % {"session": settings.session.title})
            return _back_to_voting(request, slug)
        form.add_error("code", _("No session of this conference has that join code; check it on the screen."))
    return _voter_page(request, conference, status=400, bound=form)


@require_http_methods(["GET", "POST"])
@limit_votes
def cast(request: HttpRequest, slug: str, poll_id: int) -> HttpResponse:
    conference = _conference(slug)
    if request.method != "POST":
        return _back_to_voting(request, slug)
    poll = get_object_or_404(Poll.objects.select_related("session"), pk=poll_id, session__conference=conference)
    voter = voter_for(request, conference)
    if voter is None or not voter.may_take_part(poll.session):
        messages.error(request, NotAllowed.default_message)
        return _voter_page(request, conference, status=403)
    form = VoteForm(request.POST, poll=poll)
    if not form.is_valid():
        return _voter_page(request, conference, status=400, bound=form)
    try:
        services.cast_vote(poll, voter=voter, **form.ballot())
    except VotingError as error:
        messages.error(request, error.message)
        return _voter_page(request, conference, status=_status(error))
    messages.success(request, _("Your vote was counted."))
    return _back_to_voting(request, slug)


@require_http_methods(["GET", "POST"])
@limit_questions
def ask(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    conference = _conference(slug)
    if request.method != "POST":
        return _back_to_voting(request, slug)
    session = get_object_or_404(Session, conference=conference, code=code)
    voter = voter_for(request, conference)
    form = QuestionForm(request.POST, prefix=session.code)
    form.session = session
    if not form.is_valid():
        return _voter_page(request, conference, status=400, bound=form)
    try:
        if voter is None:
            raise NotAllowed
        services.ask_question(session, voter=voter, text=form.cleaned_data["text"])
    except VotingError as error:
        messages.error(request, error.message)
        return _voter_page(request, conference, status=_status(error))
    messages.success(request, _("Thank you: your question goes to the moderator."))
    return _back_to_voting(request, slug)


@require_http_methods(["GET", "POST"])
@limit_votes
def upvote(request: HttpRequest, slug: str, question_id: int) -> HttpResponse:
    conference = _conference(slug)
    if request.method != "POST":
        return _back_to_voting(request, slug)
    question = get_object_or_404(
        Question.objects.select_related("session"), pk=question_id, session__conference=conference
    )
    voter = voter_for(request, conference)
    try:
        if voter is None:
            raise NotAllowed
        counted = services.upvote_question(question, voter=voter)
    except VotingError as error:
        messages.error(request, error.message)
        return _voter_page(request, conference, status=_status(error))
    if counted:
        messages.success(request, _("Your upvote was counted."))
    else:
        messages.info(request, _("You had already upvoted this question."))
    return _back_to_voting(request, slug)


def _run_session(request: HttpRequest, slug: str, code: str) -> Session:
    """The session, for someone who may run its voting; 403 for anyone else."""
    conference = get_object_or_404(Conference, slug=slug)
    if not user_can(request.user, conference, PERMISSION):
        raise PermissionDenied
    return get_object_or_404(Session.objects.select_related("conference"), conference=conference, code=code)


POLL_ACTIONS = {"open": services.open_poll, "close": services.close_poll, "reveal": services.reveal_poll}


@login_required
@require_http_methods(["GET", "POST"])
def moderate(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    session = _run_session(request, slug, code)
    if request.method == "POST":
        status = _moderate(request, session)
        if status is None:
            return redirect("voting:moderate", slug=slug, code=code)
    else:
        status = 200
    polls = list(Poll.objects.filter(session=session))
    overall = selectors.results_of([poll for poll in polls if poll.state != Poll.State.DRAFT])
    splits = [selectors.breakdowns_of(overall, dimension) for dimension in selectors.DIMENSIONS]
    reports = [(results, [split[pk] for split in splits]) for pk, results in overall.items()]
    lists = render_to_string(
        "voting/includes/moderate_lists.html",
        {
            "polls": polls,
            "reports": reports,
            "questions": list(Question.objects.filter(session=session).with_upvotes()),
        },
        request=request,
    )
    version = _lists_version(lists)
    if request.method == "GET" and request.GET.get("part") == "lists":
        # What static/js/moderate.js fetches: the lists alone, so that no pending message is
        # taken from the page, and a 304 while nothing moved.
        response = get_conditional_response(request, etag=version) or HttpResponse(lists)
        response["ETag"] = version
        patch_cache_control(response, no_cache=True, private=True)
        return response
    context = {
        "conference": session.conference,
        "session": session,
        "settings": selectors.session_voting(session),
        "lists": lists,
        "lists_version": version,
    }
    return render(request, "voting/moderate.html", context, status=status)


CSRF_FIELD = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def _lists_version(lists: str) -> str:
    """The ETag of what the moderator's lists show: their HTML without the CSRF tokens, which
    are masked afresh at every render."""
    return quote_etag(hashlib.sha256(CSRF_FIELD.sub("", lists).encode()).hexdigest()[:20])


def _moderate(request: HttpRequest, session: Session) -> int | None:
    """Carry out the moderator's POST; None when done, else the status of the page that says why not."""
    action = request.POST.get("action", "")
    try:
        if action in POLL_ACTIONS:
            poll = Poll.objects.filter(session=session, pk=_id(request.POST.get("poll"))).first()
            if poll is None:
                messages.error(request, _("That poll is not one of this session's."))
                return 400
            POLL_ACTIONS[action](poll)
        elif action in services.MODERATION:
            question = Question.objects.filter(session=session, pk=_id(request.POST.get("question"))).first()
            if question is None:
                messages.error(request, _("That question is not one of this session's."))
                return 400
            services.moderate_question(question, action=action)
        elif action in {"questions_on", "questions_off"}:
            services.set_questions(session, enabled=action == "questions_on")
        elif action in {"join_code_on", "join_code_off"}:
            services.set_join_code(session, enabled=action == "join_code_on")
        else:
            messages.error(request, _("Unknown action; nothing was changed."))
            return 400
    except VotingError as error:
        messages.error(request, error.message)
        return 409
    messages.success(request, _("Done."))
    return None


def _id(value: str | None) -> int | None:
    """A primary key from a form field; None for anything else ("²" and "١" are digits to isdigit)."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


def _screen_poll(session: Session) -> Poll | None:
    """The poll the screen shows: the open one; between polls, the one opened last, whose results stay up."""
    return (
        Poll.objects.filter(session=session)
        .exclude(state=Poll.State.DRAFT)
        .order_by(Case(When(state=Poll.State.OPEN, then=0), default=1), "-opened_at", "-pk")
        .first()
    )


def _screen_state(session: Session, poll: Poll | None) -> dict:
    """What the screen shows, rendered: the poll with its live results and the top questions."""
    results = selectors.results(poll) if poll else None
    questions = selectors.shown_questions(session, limit=5)
    html = render_to_string("voting/screen_live.html", {"results": results, "questions": questions})
    if results is None:
        status = _("No poll yet.")
    else:
        status = ngettext("%(count)d vote", "%(count)d votes", results.voters) % {"count": results.voters}
    return {"html": html, "status": status}


def _json_with_etag(request: HttpRequest, data: dict) -> HttpResponse:
    body = JsonResponse(data).content
    etag = quote_etag(hashlib.sha256(body).hexdigest()[:20])
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True, private=True)
    return response


@login_required
@require_GET
def screen(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    session = _run_session(request, slug, code)
    settings = selectors.session_voting(session)
    join_url = request.build_absolute_uri(reverse("voting:vote", kwargs={"slug": slug}))
    qr = segno.make(join_url, error="m")
    context = {
        "conference": session.conference,
        "session": session,
        "settings": settings,
        "join_url": join_url,
        # Trusted markup: segno draws the address as path data, never as text.
        "qr": qr.svg_inline(scale=1, svgclass="qr", lineclass=None, omitsize=True).replace(
            "<svg ", format_html('<svg role="img" aria-label="{}" ', _("QR code of the voting address")), 1
        ),
        "live": _screen_state(session, _screen_poll(session)),
    }
    return render(request, "voting/screen.html", context)


# The screen's stream: how often it looks for a change, how long before a quiet stream
# sends a comment (which also finds a closed browser and frees the thread), how long it stays
# open before the browser reconnects (checking the permission again), and how long the
# browser waits before reconnecting (on sync workers, the polling interval).
STREAM_TICK_SECONDS = 0.5
STREAM_HEARTBEAT_SECONDS = 15
STREAM_SECONDS = 300
STREAM_RETRY_MS = 1000


@login_required
@require_GET
def screen_events(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """The screen's moving part as server-sent events: one event whenever the screen's version
    moves, its id the version and its data the rendered results and status (static/js/voting.js).

    On a threaded server (gunicorn's gthread workers) the stream stays open and looks for a
    change every STREAM_TICK_SECONDS, holding one thread. A sync worker must never be held
    by a viewer: there the answer is the state if it moved since the browser's Last-Event-ID
    (which plays the ETag's part), and ends at once; the browser comes back after
    STREAM_RETRY_MS, which is short polling. docs/voting.md says how it is deployed."""
    session = _run_session(request, slug, code)
    threaded = request.META.get("wsgi.multithread", False)
    events = _screen_events(
        session,
        language=get_language(),
        last=request.headers.get("Last-Event-ID", ""),
        seconds=STREAM_SECONDS if threaded else 0,
    )
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    patch_cache_control(response, no_cache=True, private=True)
    # Proxies (nginx) must pass each event on as it comes, not gather the answer.
    response["X-Accel-Buffering"] = "no"
    return response


def _screen_events(session: Session, *, language: str, last: str, seconds: float) -> Iterator[str]:
    yield f"retry: {STREAM_RETRY_MS}\n\n"
    started = quiet_since = time.monotonic()
    while True:
        try:
            with translation.override(language):
                poll = _screen_poll(session)
                version = selectors.screen_version(session, poll, language=language)
                if version != last:
                    state = json.dumps(_screen_state(session, poll))
        except DatabaseError:
            # The browser reconnects, and meets the site's 503 while the database is away.
            return
        if version != last:
            yield f"id: {version}\ndata: {state}\n\n"
            last, quiet_since = version, time.monotonic()
        if time.monotonic() - started >= seconds:
            return
        if time.monotonic() - quiet_since >= STREAM_HEARTBEAT_SECONDS:
            yield ":\n\n"
            quiet_since = time.monotonic()
        time.sleep(STREAM_TICK_SECONDS)


class _Echo:
    def write(self, line: str) -> str:
        return line


@login_required
@require_GET
def results_csv(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """Every poll of the session that has votes: overall, by country and by organisation type
    (the breakdowns merge groups of fewer than five, as on the page)."""
    session = _run_session(request, slug, code)
    writer = csv.writer(_Echo())
    lines = [writer.writerow([_("poll"), _("question"), _("breakdown"), _("group"), _("answer"), _("count")])]
    overall = selectors.results_of(list(Poll.objects.filter(session=session).exclude(state=Poll.State.DRAFT)))
    splits = [selectors.breakdowns_of(overall, dimension) for dimension in selectors.DIMENSIONS]
    for pk, results in overall.items():
        question = neutralise(results.poll.question)
        for row in results.rows:
            lines.append(writer.writerow([pk, question, _("all"), "", neutralise(row.label), row.count]))
        for split in (split[pk] for split in splits):
            for group in split.groups:
                for column, count in zip(split.columns, group.cells, strict=True):
                    lines.append(
                        writer.writerow([pk, question, split.title, group.label, neutralise(column.label), count])
                    )
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{code}-results.csv"'
    return response
