"""The demo's smart voting: the 2017 session with its real question and result, and the
upcoming edition's polls ready to open. Idempotent, like the rest of seed_demo.

The 2017 question and its winner are from the conference report ("participants picked
‘Supporting cross-sectoral collaboration’ as most needed to accelerate industrial
modernisation"); the other options are the actions named in the closing presentation.
The votes were cast with another tool, so the poll carries the reported outcome and no
figures of its own.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import translation

from agenda.demo import PAST_SLUG, UPCOMING_SLUG, sync
from agenda.models import Session
from agenda.services import bump_content_version
from voting.models import Option, Poll, SessionVoting

SESSION_CODE = "smart-voting"
QUESTION = "Which action is most needed to accelerate industrial modernisation?"
WINNER = "Supporting cross-sectoral collaboration"
OPTIONS = [
    WINNER,
    "Strategic cross-regional collaboration",
    "Investing in cluster excellence",
    "Connecting specialised eco-systems along value chains",
    "Accelerating the growth and scale-up of SMEs",
]
OUTCOME = f"Participants picked ‘{WINNER}’ as most needed to accelerate industrial modernisation."
# The upcoming edition's polls, opened one after the other by the moderator.
UPCOMING_POLLS = [
    {"question": QUESTION, "kind": Poll.Kind.SINGLE, "options": OPTIONS},
    {
        "question": "Rank these for the next joint cluster initiatives, most important first.",
        "kind": Poll.Kind.RANKING,
        "options": [
            "Advanced manufacturing and technologies",
            "Digital",
            "Resource efficiency",
            "Internationalisation",
            "Skills",
        ],
    },
    {
        "question": "How useful was the group discussion for your next collaboration?",
        "kind": Poll.Kind.RATING,
        "options": [],
    },
    {
        "question": "In one or two words: what should clusters collaborate on next?",
        "kind": Poll.Kind.OPEN,
        "options": [],
    },
]
# Printed on the upcoming edition's screen for people following the stream.
UPCOMING_JOIN_CODE = "GROWREGION"


def seed_voting() -> list[Poll]:
    """Create or update the demo polls; a poll that has opened is left as the moderator left it."""
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        past = Session.objects.select_related("conference").get(conference__slug=PAST_SLUG, code=SESSION_CODE)
        upcoming = Session.objects.get(conference__slug=UPCOMING_SLUG, code=SESSION_CODE)
        polls, changed = [], False

        poll, poll_changed = sync(
            Poll,
            lookup={"session": past, "question": QUESTION},
            values={
                "kind": Poll.Kind.SINGLE,
                "state": Poll.State.REVEALED,
                "outcome": OUTCOME,
                "opened_at": past.start,
                "closed_at": past.end - dt.timedelta(minutes=15),
            },
        )
        changed |= poll_changed | _sync_options(poll, OPTIONS)
        polls.append(poll)
        if changed:
            # The session page shows the result and is cached by the conference's content version.
            bump_content_version(past.conference_id)

        for position, spec in enumerate(UPCOMING_POLLS):
            poll = Poll.objects.filter(session=upcoming, question=spec["question"]).first()
            if poll is not None and poll.state != Poll.State.DRAFT:
                polls.append(poll)
                continue
            poll, _changed = sync(
                Poll,
                lookup={"session": upcoming, "question": spec["question"]},
                values={"kind": spec["kind"], "position": position},
            )
            _sync_options(poll, spec["options"])
            polls.append(poll)
        sync(
            SessionVoting,
            lookup={"session": upcoming},
            values={"takes_questions": True, "join_code": UPCOMING_JOIN_CODE},
        )
    return polls


def _sync_options(poll: Poll, labels: list[str]) -> bool:
    changed = False
    for position, label in enumerate(labels):
        _option, option_changed = sync(Option, lookup={"poll": poll, "label": label}, values={"position": position})
        changed |= option_changed
    stale = poll.options.exclude(label__in=labels)
    if stale.exists():
        stale.delete()
        changed = True
    return changed
