"""What an organiser's change to the programme means beyond the programme: the one registry.

The agenda never imports the apps built on it. Its services (agenda/services.py) announce
two events here, inside the organiser's transaction and after the conference row is locked,
and the apps that act on them subscribe in their AppConfig.ready(). A subscriber runs in
that transaction: what it writes commits or rolls back with the organiser's change, and it
may lock the conference's sessions after the conference row, in the order every writer uses.

CAPACITY_RAISED, with `conference_id`: a conference got more places (or its cancellation was
    called off), or a session with sign-up more seats. Only when the number rose.
    Subscribers: registration (promotes the waiting lists in order, emails those promoted).
SESSION_CHANGED, with `session` and `changes` ({field: (old, new)} of start, end, room,
    status): a session moved, changed room or was cancelled.
    Subscribers: registration (emails the people with a seat on it).

Registration announces one event of its own here, because the apps built on it may not be
imported by it:

REGISTRATION_CANCELLED, with `registration_id`: a registration was cancelled (by the
    attendee, an organiser, or the deletion of the account). Announced after that change
    commits, not inside it: each subscriber opens its own transaction and takes its own
    locks, so the cancellation never waits for them nor fails with them.
    Subscribers: meetings (cancels the person's requests and meetings, tells the other side).
"""

from collections.abc import Callable
from functools import partial

from django.db import transaction

CAPACITY_RAISED = "capacity_raised"
SESSION_CHANGED = "session_changed"
REGISTRATION_CANCELLED = "registration_cancelled"

_subscribers: dict[str, list[Callable[..., None]]] = {
    CAPACITY_RAISED: [],
    SESSION_CHANGED: [],
    REGISTRATION_CANCELLED: [],
}


def subscribe(event: str, handler: Callable[..., None]) -> None:
    """Call `handler(**details)` whenever `event` is announced; a handler subscribes once."""
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def subscribers(event: str) -> list[Callable[..., None]]:
    return list(_subscribers[event])


def announce(event: str, **details: object) -> None:
    """Run every subscriber of `event`, in the order they subscribed, in the caller's transaction."""
    for handler in _subscribers[event]:
        handler(**details)


def announce_on_commit(event: str, **details: object) -> None:
    """Announce `event` once the caller's transaction commits (at once outside one), never if
    it rolls back. A failing subscriber is logged by Django (robust): the change it follows
    is committed already and stays a success for whoever made it."""
    transaction.on_commit(partial(announce, event, **details), robust=True)
