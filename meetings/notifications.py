"""The emails that tell participants what happened to their meeting requests; the one
place this app writes to the outbox.

Each is rendered in the recipient's language (their registration's) and the conference's
time zone inside the transaction of the change, and saved to the outbox, so it is sent if
and only if the change commits. Emails about a meeting with a time carry it as an
iCalendar entry whose UID stays the same, and whose status is CANCELLED once it is.
"""

from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from meetings.calendar import build_meeting_calendar
from meetings.models import Meeting, MeetingRequest, Profile
from outbox.emails import compose, queue_email


def request_sent(meeting_request: MeetingRequest) -> None:
    _tell(meeting_request.recipient, "request_sent", meeting_request)


def request_accepted(meeting: Meeting) -> None:
    for profile in (meeting.request.sender, meeting.request.recipient):
        _tell(profile, "request_accepted", meeting.request, meeting=meeting)


def request_declined(meeting_request: MeetingRequest) -> None:
    _tell(meeting_request.sender, "request_declined", meeting_request)


def request_cancelled(meeting_request: MeetingRequest, *, meeting: Meeting | None, by: Profile | None) -> None:
    """Tell the side that did not cancel (both, when the organisers or an opt-out did)."""
    for profile in (meeting_request.sender, meeting_request.recipient):
        if by is None or profile.pk != by.pk:
            _tell(profile, "request_cancelled", meeting_request, meeting=meeting, by=by)


def request_expired(meeting_request: MeetingRequest) -> None:
    for profile in (meeting_request.sender, meeting_request.recipient):
        _tell(profile, "request_expired", meeting_request)


def meeting_scheduled(meeting: Meeting) -> None:
    for profile in (meeting.request.sender, meeting.request.recipient):
        _tell(profile, "meeting_scheduled", meeting.request, meeting=meeting)


def profile_reviewed(profile: Profile) -> None:
    """Tell a participant that the organisers approved their profile, or did not."""
    conference = profile.conference
    kind = "profile_approved" if profile.status == Profile.Status.APPROVED else "profile_refused"
    context = {
        "conference": conference,
        "me": profile,
        "meetings_url": settings.SITE_URL + reverse("meetings:home", kwargs={"slug": conference.slug}),
        "profile_url": settings.SITE_URL + reverse("meetings:profile", kwargs={"slug": conference.slug}),
    }
    _send(profile, kind, context)


def _tell(
    profile: Profile, kind: str, meeting_request: MeetingRequest, *, meeting: Meeting | None = None, by=None
) -> None:
    block = meeting_request.block
    conference = block.session.conference
    context = {
        "conference": conference,
        "block": block,
        "request": meeting_request,
        "meeting": meeting,
        "me": profile,
        "other": meeting_request.other(profile),
        "by_me": by is not None and by.pk == profile.pk,
        "by_organisers": by is None,
        "meetings_url": settings.SITE_URL + reverse("meetings:home", kwargs={"slug": conference.slug}),
    }
    calendar = None
    if meeting is not None and meeting.slot_id:
        calendar = partial(build_meeting_calendar, meeting, viewer=profile)
    _send(profile, kind, context, calendar=calendar)


def _send(profile: Profile, kind: str, context: dict, *, calendar: Callable[[], bytes] | None = None) -> None:
    """Write the email `kind` to the profile's owner in their language and the conference's
    zone, with the calendar entry `calendar()` makes, if any, and queue it."""
    registration = profile.registration
    user = registration.user
    if user is None:  # the account is deleted
        return
    conference = context["conference"]
    prefix = f"emails/meetings/{kind}"
    with translation.override(registration.language), timezone.override(conference.tz):
        heading = _one_line(render_to_string(f"{prefix}_subject.txt", context))
        subject = gettext("%(conference)s: %(subject)s") % {"conference": conference.name, "subject": heading}
        body_text, body_html = compose(
            heading=heading,
            content=render_to_string(f"{prefix}_message.txt", context),
            conference=conference,
            my_registration_url=settings.SITE_URL + registration.get_absolute_url(),
        )
        attachments = []
        if calendar is not None:
            attachments.append({"filename": "meeting.ics", "content": calendar().decode(), "mimetype": "text/calendar"})
    queue_email(
        to=user.email,
        subject=_one_line(subject),
        body_text=body_text,
        body_html=body_html,
        kind=f"meetings_{kind}",
        language=registration.language,
        conference=conference,
        attachments=attachments,
        reply_to=conference.contact_email,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())
