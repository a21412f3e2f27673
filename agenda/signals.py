from django.dispatch import Signal

# Sent by agenda.services when an organiser moves, re-rooms or cancels a session, after the
# change is saved and inside its transaction, with `session` and `changes` (a dict of
# field name -> (old, new)). Registration listens to tell the people booked on it,
# without the agenda knowing about registrations.
session_changed = Signal()
