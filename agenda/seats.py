"""Seats left on the sessions attendees book, as the programme pages show them.

Bookings belong to registration, which the agenda does not import: registration, the one
home of capacity arithmetic (registration.selectors), gives its counter here in its
AppConfig.ready(). The agenda alone shows no seats.
"""

from collections.abc import Callable, Collection

_counter: Callable[[Collection[int]], dict[int, int]] | None = None


def count_with(counter: Callable[[Collection[int]], dict[int, int]]) -> None:
    """Use `counter(session_ids) -> {session id: seats left}` for the programme pages."""
    global _counter
    _counter = counter


def seats_left(session_ids: Collection[int]) -> dict[int, int]:
    """Seats left on those of the given sessions that attendees can book and that have a
    limit; the pages show nothing for the others."""
    return _counter(session_ids) if _counter is not None and session_ids else {}
