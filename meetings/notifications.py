"""The emails that tell participants what happened to their meeting requests; the one
place this app writes to the outbox.

Each is rendered in the recipient's language (their registration's) and the conference's
time zone inside the transaction of the change, and saved to the outbox, so it is sent if
and only if the change commits. Emails about a meeting with a time carry it as an
iCalendar entry whose UID stays the same, and whose status is CANCELLED once it is.
"""

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


def _tell(
    profile: Profile, kind: str, meeting_request: MeetingRequest, *, meeting: Meeting | None = None, by=None
) -> None:
    registration = profile.registration
    user = registration.user
    if user is None:  # the account is deleted
        return
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
        if meeting is not None and meeting.slot_id:
            attachments.append(
                {
                    "filename": "meeting.ics",
                    "content": build_meeting_calendar(meeting, viewer=profile).decode(),
                    "mimetype": "text/calendar",
                }
            )
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
