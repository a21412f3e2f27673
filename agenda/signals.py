from django.dispatch import Signal

# Sent by agenda.services when an organiser moves, re-rooms or cancels a session, after the
# change is saved and inside its transaction, with `session` and `changes` (a dict of
# field name -> (old, new)). Registration listens to tell the people booked on it,
# without the agenda knowing about registrations.
session_changed = Signal()

# Sent by agenda.services when an organiser gives a conference more places (or calls off
# its cancellation), or a session with sign-up more seats (its own number, or its room's),
# after the change is saved and inside its transaction, with `conference_id`. Only when
# the number rose: other saves send nothing. The conference row is locked by then, so a
# listener may lock the conference's sessions after it, in the order every writer uses.
# Registration listens to give the new places to those waiting.
capacity_raised = Signal()
