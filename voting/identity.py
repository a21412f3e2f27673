"""Who is voting, and the keys that stand for them.

A key is an HMAC (Django's salted_hmac over SECRET_KEY) of the person and a scope: a
poll for votes, a session for questions and upvotes. Keys of one person in two polls
differ, so votes cannot be linked across polls, and nobody who reads the database
without the secret key can tell whose a key is.
"""

import secrets
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

from agenda.models import Session
from registration.models import Registration

SALT = "voting.identity"
# Where a guest's join codes and their own random identity are kept in the Django session.
GUEST_SESSION_KEY = "voting_guest"


@dataclass(frozen=True)
class Voter:
    """A confirmed attendee (`registration` set) or a guest who gave a join code."""

    identity: str
    user: object | None = None
    registration: Registration | None = None
    # Sessions a guest joined with their codes; attendees may take part in every session.
    guest_session_ids: frozenset[int] = frozenset()

    def may_take_part(self, session: Session) -> bool:
        if self.registration is not None:
            return self.registration.conference_id == session.conference_id
        return session.pk in self.guest_session_ids

    def key(self, scope: str) -> str:
        return salted_hmac(SALT, f"{scope}:{self.identity}", algorithm="sha256").hexdigest()

    def poll_key(self, poll) -> str:
        return self.key(f"poll:{poll.pk}")

    def session_key(self, session: Session) -> str:
        return self.key(f"session:{session.pk}")


def voter_for(request, conference) -> Voter | None:
    """The request's voter in `conference`: a confirmed attendee, else a guest with join codes, else None."""
    user = request.user
    registration = None
    if user.is_authenticated:
        registration = (
            Registration.objects.filter(conference=conference, user=user, status=Registration.Status.CONFIRMED)
            .only("id", "conference_id", "country", "organisation_type")
            .first()
        )
    if registration is not None:
        return Voter(identity=f"user:{user.pk}", user=user, registration=registration)
    guest = request.session.get(GUEST_SESSION_KEY)
    if guest and guest.get("sessions"):
        # A guest with an account is the account, so a new browser does not make a second voter.
        identity = f"user:{user.pk}" if user.is_authenticated else f"guest:{guest['token']}"
        return Voter(
            identity=identity,
            user=user if user.is_authenticated else None,
            guest_session_ids=frozenset(guest["sessions"]),
        )
    return None


def remember_guest(request, session: Session) -> None:
    """Let this browser take part in `session` as a guest (it gave the session's join code)."""
    guest = request.session.get(GUEST_SESSION_KEY) or {"token": secrets.token_urlsafe(24), "sessions": []}
    if session.pk not in guest["sessions"]:
        guest["sessions"] = [*guest["sessions"], session.pk]
    request.session[GUEST_SESSION_KEY] = guest


def rate_key(request) -> str:
    """Who a vote or a question counts against in the rate limits (conference.ratelimit):
    the account, else the guest's identity, else the browser's session (such a request is
    refused anyway, but counted)."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    guest = request.session.get(GUEST_SESSION_KEY)
    if guest:
        return f"guest:{guest['token']}"
    return f"session:{request.session.session_key or ''}"
