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
"""

from collections.abc import Callable

CAPACITY_RAISED = "capacity_raised"
SESSION_CHANGED = "session_changed"

_subscribers: dict[str, list[Callable[..., None]]] = {CAPACITY_RAISED: [], SESSION_CHANGED: []}


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
