"""Who may open which page: one row per URL and what each kind of visitor gets.

Every named URL of the project must have a row (the completeness test fails otherwise), so a
new page declares its rule when it is added: one line in RULES. The admin and allauth are
covered by sample rows of their own. Every row's URL also refuses a POST that lacks its CSRF
token, for every kind of visitor, so no view writes on another site's behalf.
"""

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import TeamInvitation
from accounts.teams import PERMISSIONS
from agenda.models import Conference, Session, Speaker, Star
from checkin.models import BadgePrint, BadgeRun, BadgeRunPart, CheckIn, OfflineScan, Ticket
from meetings.models import Meeting, MeetingRequest, MeetingSeat, Profile
from outbox.models import OutgoingEmail
from registration.models import Booking, ExportRecord, ProgrammeFeed, Registration, RegistrationChange, User
from registration.programme import programme_feed
from tests.factories import (
    PASSWORD,
    ConferenceFactory,
    MeetingBlockFactory,
    OrganiserFactory,
    ProfileFactory,
    RegistrationFactory,
    SessionSpeakerFactory,
    StaffFactory,
    TeamFactory,
    VerifiedUserFactory,
)
from tests.voting.factories import PollFactory
from voting.models import Question, Vote


class Outcome(enum.Enum):
    OK = "the page"
    REDIRECT = "a redirect within the site"
    LOGIN = "a redirect to log in"
    ADMIN_LOGIN = "a redirect to the admin's login"
    SITE_LOGIN_TO_ADMIN = "a redirect to the site's login, on to the admin"
    BAD_REQUEST = "a 400"
    FORBIDDEN = "the 403 page"
    NOT_FOUND = "the 404 page"
    POST_ONLY = "a 405: the address takes only POSTs"


OK, REDIRECT, LOGIN, ADMIN_LOGIN, SITE_LOGIN_TO_ADMIN, BAD_REQUEST, FORBIDDEN, NOT_FOUND, POST_ONLY = Outcome


@dataclass(frozen=True)
class Access:
    """What each kind of visitor gets. Staff are members of a team of the conference that
    may see its registrations, and export them (`staff`) or not; then one member for each
    other team permission, holding it alone; then a member of a team holding every
    permission in another conference only. Those members get, unless a rule says otherwise,
    what `staff_without_export` gets: nothing their permission does not give."""

    anonymous: Outcome
    attendee: Outcome
    other_attendee: Outcome
    staff_without_export: Outcome
    staff: Outcome
    organiser: Outcome
    programme_editor: Outcome | None = None
    registration_changer: Outcome | None = None
    check_in: Outcome | None = None
    meetings: Outcome | None = None
    voting: Outcome | None = None
    messaging: Outcome | None = None
    other_conference: Outcome | None = None

    def __post_init__(self) -> None:
        for role in TEAM_ROLES:
            if getattr(self, role) is None:
                object.__setattr__(self, role, self.staff_without_export)


# Each member's one team permission in the conference.
TEAM_ROLES = {
    "programme_editor": "can_edit_programme",
    "registration_changer": "can_change_registrations",
    "check_in": "can_check_in",
    "meetings": "can_run_meetings",
    "voting": "can_run_voting",
    "messaging": "can_message_attendees",
    "other_conference": None,
}


def everyone(outcome: Outcome) -> Access:
    return Access(*[outcome] * len(Access.__dataclass_fields__))


def team_only(outcome: Outcome, **members: Outcome) -> Access:
    """An admin page: visitors who are not staff are sent to the admin's login, the
    organiser gets the page, and staff and team members what `members` says, else `outcome`."""
    staff = dict.fromkeys(["staff_without_export", "staff", *TEAM_ROLES], outcome) | members
    return Access(anonymous=ADMIN_LOGIN, attendee=ADMIN_LOGIN, other_attendee=ADMIN_LOGIN, organiser=OK, **staff)


EVERYONE = everyone(OK)
NOBODY = everyone(NOT_FOUND)
SIGNED_IN = Access(LOGIN, OK, OK, OK, OK, OK)
# Only the attendee's own registration; whoever has none finds nothing.
REGISTERED = Access(LOGIN, OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND)
# The staff pages: whoever may see or export the conference's registrations; the lists, exporters.
STAFF = Access(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, OK, **dict.fromkeys(TEAM_ROLES, FORBIDDEN))
EXPORTERS = Access(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK, **dict.fromkeys(TEAM_ROLES, FORBIDDEN))
ADMIN_ORGANISERS = team_only(FORBIDDEN)
# Team members who may check people in, or run voting, and the organiser (a superuser).
CHECKERS = Access(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, check_in=OK)
VOTING_RUNNERS = Access(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, voting=OK)
POSTS_ONLY = Access(LOGIN, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY)
# Bilateral meetings: confirmed attendees are sent to opt in first; nobody else finds anything.
MEETING_PARTICIPANTS = Access(LOGIN, REDIRECT, REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND)
# Organisers of bilateral meetings: a team with the permission, or superusers.
MEETING_ORGANISERS = Access(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, meetings=OK)
ROLES = list(Access.__dataclass_fields__)
# What the project's views write; a POST refused for want of its CSRF token changes none of it.
WRITTEN_BY_VIEWS = (
    User,
    Registration,
    Booking,
    RegistrationChange,
    OutgoingEmail,
    ExportRecord,
    Ticket,
    CheckIn,
    OfflineScan,
    BadgePrint,
    BadgeRun,
    BadgeRunPart,
    Vote,
    Question,
    Profile,
    MeetingRequest,
    Meeting,
    MeetingSeat,
    Star,
    ProgrammeFeed,
    TeamInvitation,
)


@dataclass(frozen=True)
class World:
    """What the rows' URLs point at: a published and a draft conference, an attendee and
    another attendee registered for the first, staff with and without the export
    permission, and an organiser."""

    conference: Conference
    draft_conference: Conference
    pre_event: Session
    speaker: Speaker
    registration: Registration
    other_registration: Registration
    invitation: TeamInvitation
    users: dict[str, User | None]


def member(conferences: list[Conference], **permissions: bool) -> User:
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=conferences, members=[user], **permissions)
    return user


def build_world() -> World:
    conference = ConferenceFactory()
    draft_conference = ConferenceFactory(is_published=False)
    appearance = SessionSpeakerFactory(session__conference=conference, session__kind=Session.Kind.PRE_EVENT)
    registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory())
    other_registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory())
    users = {
        "anonymous": None,
        "attendee": registration.user,
        "other_attendee": other_registration.user,
        "staff_without_export": StaffFactory(),
        "staff": StaffFactory(can_export=True),
        "organiser": OrganiserFactory(),
    }
    for role, permission in TEAM_ROLES.items():
        if permission:
            users[role] = member([conference, draft_conference], **{permission: True})
    users["other_conference"] = member([ConferenceFactory()], **dict.fromkeys(PERMISSIONS, True))
    invitation = TeamInvitation.objects.create(
        team=TeamFactory(conferences=[conference], can_view_registrations=True),
        email=registration.user.email,
        token="an-invitation-to-the-attendee",
    )
    return World(
        conference=conference,
        draft_conference=draft_conference,
        pre_event=appearance.session,
        speaker=appearance.speaker,
        registration=registration,
        other_registration=other_registration,
        invitation=invitation,
        users=users,
    )


def no_kwargs(world: World) -> dict:
    return {}


def slug(world: World) -> dict:
    return {"slug": world.conference.slug}


def draft_slug(world: World) -> dict:
    return {"slug": world.draft_conference.slug}


def first_day(world: World) -> dict:
    return {"slug": world.conference.slug, "door": f"day-{world.conference.start_date.isoformat()}"}


def badge_run(world: World) -> BadgeRun:
    return BadgeRun.objects.create(conference=world.conference, layout="a6", registration_ids=[], part_size=1)


def badge_part(world: World) -> dict:
    part = BadgeRunPart.objects.create(run=badge_run(world), index=0, content=b"%PDF-1.4")
    return {"slug": world.conference.slug, "run": part.run.uuid, "index": 0}


def session(world: World) -> dict:
    return {"slug": world.conference.slug, "code": world.pre_event.code}


def poll(world: World) -> dict:
    return {"slug": world.conference.slug, "poll_id": PollFactory(session=world.pre_event).pk}


def question(world: World) -> dict:
    asked = Question.objects.create(session=world.pre_event, text="Why?", author_key="0" * 64, status="approved")
    return {"slug": world.conference.slug, "question_id": asked.pk}


def speaker(world: World) -> dict:
    return {"slug": world.conference.slug, "code": world.speaker.code}


def listed_profile(world: World) -> dict:
    """A participant listed in the meetings directory of the world's conference."""
    return {"slug": world.conference.slug, "profile_id": ProfileFactory(registration__conference=world.conference).pk}


def meeting_request(world: World) -> dict:
    return {"slug": world.conference.slug, "request_id": 1}


def meeting_block(world: World) -> dict:
    return {"slug": world.conference.slug, "block_id": MeetingBlockFactory(conference=world.conference).pk}


def feed(world: World) -> dict:
    return {"slug": world.conference.slug, "token": programme_feed(world.registration.user, world.conference).token}


def forged_feed(world: World) -> dict:
    return {"slug": world.conference.slug, "token": "x" * 43}


# Pages that only take a POST send whoever opens them to the page they belong to.
POST_REDIRECTS = Access(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)


@dataclass(frozen=True)
class Rule:
    name: str
    access: Access
    kwargs: Callable[[World], dict] = no_kwargs


RULES = [
    # The project's pages.
    Rule("agenda:conference_list", EVERYONE),
    Rule("agenda:conference", EVERYONE, slug),
    Rule("agenda:conference", NOBODY, draft_slug),
    Rule("agenda:agenda", EVERYONE, slug),
    Rule("agenda:agenda", NOBODY, draft_slug),
    Rule("agenda:agenda_ics", EVERYONE, slug),
    Rule("agenda:session", EVERYONE, session),
    Rule("agenda:session_ics", EVERYONE, session),
    Rule("agenda:speakers", EVERYONE, slug),
    Rule("agenda:speaker", EVERYONE, speaker),
    Rule("agenda:schedule_xml", EVERYONE, slug),
    Rule("agenda:schedule_json", EVERYONE, slug),
    Rule("agenda:schedule_json", NOBODY, draft_slug),
    Rule("agenda:star", POST_REDIRECTS, session),
    Rule("agenda:merge_stars", POST_REDIRECTS, slug),
    Rule("agenda:search", EVERYONE, slug),
    Rule("agenda:search", NOBODY, draft_slug),
    Rule("healthz", EVERYONE),
    Rule("favicon", everyone(REDIRECT)),
    Rule("registration:register", Access(LOGIN, REDIRECT, REDIRECT, OK, OK, OK), slug),
    Rule("registration:mine", Access(LOGIN, OK, OK, REDIRECT, REDIRECT, REDIRECT), slug),
    Rule("registration:edit", REGISTERED, slug),
    Rule("registration:pre_events", REGISTERED, slug),
    Rule("registration:cancel", REGISTERED, slug),
    Rule("registration:export", SIGNED_IN, slug),  # all of the account's own data
    Rule(
        "registration:consent",
        Access(LOGIN, *[Outcome.POST_ONLY] * 5),
        lambda world: {"slug": world.conference.slug, "purpose": "photos"},
    ),
    Rule("registration:delete_account", SIGNED_IN, slug),
    Rule("registration:my_programme", SIGNED_IN, slug),
    Rule("registration:my_programme", Access(LOGIN, *[NOT_FOUND] * 5), draft_slug),
    Rule("registration:renew_programme_feed", POST_REDIRECTS, slug),
    # The secret address is the key: calendar apps cannot log in.
    Rule("registration:my_programme_feed", EVERYONE, feed),
    Rule("registration:my_programme_feed", NOBODY, forged_feed),
    Rule("registration:staff_dashboard", STAFF, slug),
    Rule("registration:staff_dashboard", STAFF, draft_slug),
    Rule("registration:attendees_csv", EXPORTERS, slug),
    Rule("registration:check_in_csv", EXPORTERS, slug),
    Rule(
        "registration:session_csv",
        EXPORTERS,
        session,
    ),
    Rule("checkin:doors", CHECKERS, slug),
    Rule("checkin:desk", CHECKERS, first_day),
    Rule(
        "checkin:desk",
        Access(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND, check_in=NOT_FOUND),
        lambda world: {"slug": world.conference.slug, "door": "day-1999-01-01"},
    ),
    Rule("checkin:undo", POSTS_ONLY, first_day),
    Rule("checkin:sync", POSTS_ONLY, slug),
    Rule("checkin:badges", CHECKERS, slug),
    Rule("checkin:badge_run", CHECKERS, lambda world: {"slug": world.conference.slug, "run": badge_run(world).uuid}),
    Rule("checkin:badge_part", CHECKERS, lambda world: badge_part(world)),
    Rule("checkin:ticket", REGISTERED, slug),
    Rule("checkin:certificate", Access(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND), slug),
    Rule("checkin:certificate_email", POSTS_ONLY, slug),
    Rule("voting:vote", EVERYONE, slug),
    Rule("voting:vote", NOBODY, draft_slug),
    Rule("voting:live", EVERYONE, slug),
    # Addresses that take POSTs send a GET back to the voter page.
    Rule("voting:join", everyone(REDIRECT), slug),
    Rule("voting:cast", everyone(REDIRECT), poll),
    Rule("voting:upvote", everyone(REDIRECT), question),
    Rule("voting:ask", everyone(REDIRECT), session),
    Rule("voting:moderate", VOTING_RUNNERS, session),
    Rule("voting:screen", VOTING_RUNNERS, session),
    Rule("voting:screen_events", VOTING_RUNNERS, session),
    Rule("voting:results_csv", VOTING_RUNNERS, session),
    Rule("meetings:home", SIGNED_IN, slug),
    Rule("meetings:profile", REGISTERED, slug),
    Rule("meetings:opt_out", MEETING_PARTICIPANTS, slug),
    Rule("meetings:directory", MEETING_PARTICIPANTS, slug),
    Rule("meetings:person", MEETING_PARTICIPANTS, listed_profile),
    Rule("meetings:respond", MEETING_PARTICIPANTS, meeting_request),
    Rule("meetings:cancel", MEETING_PARTICIPANTS, meeting_request),
    Rule("meetings:figures", MEETING_ORGANISERS, slug),
    Rule("meetings:profiles", MEETING_ORGANISERS, slug),
    Rule("meetings:table_plan", MEETING_ORGANISERS, meeting_block),
    Rule("meetings:table_plan_csv", MEETING_ORGANISERS, meeting_block),
    Rule("set_language", everyone(REDIRECT)),
    # Only the address the invitation was sent to may accept it.
    Rule(
        "team_join",
        Access(LOGIN, OK, BAD_REQUEST, BAD_REQUEST, BAD_REQUEST, BAD_REQUEST),
        lambda world: {"token": world.invitation.token},
    ),
    Rule("accessibility", EVERYONE),
    Rule("accessibility_report", EVERYONE),
    # allauth: a sample.
    Rule("account_login", Access(OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    Rule("account_signup", Access(OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    Rule("account_logout", Access(REDIRECT, OK, OK, OK, OK, OK)),
    Rule("account_reset_password", EVERYONE),
    Rule("account_email", SIGNED_IN),
    # The admin: a sample.
    Rule("admin:index", team_only(OK)),
    # The admin's login is the site's (admin:login and admin_login are the same address).
    Rule("admin_login", everyone(SITE_LOGIN_TO_ADMIN)),
    Rule("admin:registration_user_changelist", ADMIN_ORGANISERS),
    Rule(
        "admin:registration_user_change",
        ADMIN_ORGANISERS,
        lambda world: {"object_id": world.registration.user.pk},
    ),
    Rule("admin:auth_group_changelist", ADMIN_ORGANISERS),
    Rule("admin:accounts_team_changelist", ADMIN_ORGANISERS),
    # The scoped admin: each team permission its part, in its conferences only; a member of
    # another conference finds none of this one's objects (and is sent to the admin's index).
    Rule("admin:agenda_session_changelist", team_only(FORBIDDEN, programme_editor=OK, other_conference=OK)),
    Rule(
        "admin:agenda_session_change",
        team_only(FORBIDDEN, programme_editor=OK, other_conference=REDIRECT),
        lambda world: {"object_id": world.pre_event.pk},
    ),
    Rule(
        "admin:agenda_speaker_change",
        team_only(FORBIDDEN, programme_editor=OK, other_conference=REDIRECT),
        lambda world: {"object_id": world.speaker.pk},
    ),
    Rule(
        "admin:agenda_conference_change",
        team_only(FORBIDDEN, programme_editor=OK, other_conference=REDIRECT),
        lambda world: {"object_id": world.conference.pk},
    ),
    # The conference first: a list of them, or straight to the form of the only one.
    Rule("admin:agenda_session_add", team_only(FORBIDDEN, programme_editor=OK, other_conference=REDIRECT)),
    Rule("admin:agenda_conference_add", team_only(FORBIDDEN)),
    Rule(
        "admin:registration_registration_changelist",
        team_only(FORBIDDEN, staff_without_export=OK, staff=OK, registration_changer=OK, other_conference=OK),
    ),
    Rule(
        "admin:registration_registration_change",
        team_only(FORBIDDEN, staff_without_export=OK, staff=OK, registration_changer=OK, other_conference=REDIRECT),
        lambda world: {"object_id": world.registration.pk},
    ),
    Rule(
        "admin:registration_booking_changelist",
        team_only(FORBIDDEN, staff_without_export=OK, staff=OK, other_conference=OK),
    ),
    Rule(
        "admin:registration_conferenceretention_changelist",
        team_only(FORBIDDEN, staff_without_export=OK, staff=OK, registration_changer=OK, other_conference=OK),
    ),
    Rule(
        "admin:registration_exportrecord_changelist",
        team_only(FORBIDDEN, staff=OK, other_conference=OK),
    ),
    Rule(
        "admin:outbox_outgoingemail_changelist",
        team_only(FORBIDDEN, staff_without_export=OK, staff=OK, other_conference=OK),
    ),
]


def project_url_names() -> Iterator[str]:
    """Every URL the project routes, by name; the admin's and allauth's are left out."""

    def walk(patterns: list, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin" or getattr(pattern.urlconf_module, "__name__", "") == "allauth.urls":
                    continue
                yield from walk(pattern.url_patterns, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix)
            elif isinstance(pattern, URLPattern):
                yield f"{prefix}{pattern.name}" if pattern.name else f"<unnamed {pattern.pattern}>"

    return walk(get_resolver().url_patterns, "")


def test_every_url_of_the_project_has_a_rule():
    ruled = {rule.name for rule in RULES}

    missing = sorted(set(project_url_names()) - ruled)

    assert not missing, f"Name these URLs and add a Rule to RULES for each: {missing}"


def body(response: HttpResponse) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def assert_outcome(outcome: Outcome, response: HttpResponse, content: str, path: str) -> None:
    location = response.get("Location", "")
    match outcome:
        case Outcome.OK:
            assert response.status_code == 200
            assert "You are not allowed to see this page" not in content
        case Outcome.REDIRECT:
            assert response.status_code == 302
            assert location.startswith("/")
            assert not location.startswith(("//", "/\\"))
            assert not location.startswith(("/accounts/login/", "/admin/login/"))
        case Outcome.LOGIN:
            assert response.status_code == 302
            assert location == f"{reverse('account_login')}?next={path}"
        case Outcome.ADMIN_LOGIN:
            assert response.status_code == 302
            assert location == f"{reverse('admin:login')}?next={path}"
        case Outcome.SITE_LOGIN_TO_ADMIN:
            assert response.status_code == 302
            assert location == f"{reverse('account_login')}?next={reverse('admin:index')}"
        case Outcome.BAD_REQUEST:
            assert response.status_code == 400
            assert "SECRET_KEY" not in content
        case Outcome.FORBIDDEN:
            assert response.status_code == 403
            assert "You are not allowed to see this page" in content
        case Outcome.NOT_FOUND:
            assert response.status_code == 404
            assert "Page not found" in content
        case Outcome.POST_ONLY:
            assert response.status_code == 405
            assert response["Allow"] == "POST"


@pytest.mark.django_db
@pytest.mark.parametrize("rule", RULES, ids=[f"{rule.name}-{index}" for index, rule in enumerate(RULES)])
def test_each_kind_of_visitor_gets_what_the_rule_says(rule):
    world = build_world()
    path = reverse(rule.name, kwargs=rule.kwargs(world))

    for role in ROLES:
        client = Client()
        if world.users[role]:
            client.force_login(world.users[role])
        response = client.get(path)
        content = body(response)
        expected = getattr(rule.access, role)

        try:
            assert_outcome(expected, response, content, path)
        except AssertionError as failure:
            raise AssertionError(
                f"{rule.name} ({path}) as {role}: expected {expected.value}, got {response.status_code} "
                f"{response.get('Location', '')}"
            ) from failure
        # Attendees never see each other's details.
        for one, other in [("attendee", "other_attendee"), ("other_attendee", "attendee")]:
            if role == one:
                assert world.users[other].email not in content, (path, role)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN_BY_VIEWS}


@pytest.mark.django_db
@pytest.mark.parametrize("rule", RULES, ids=[f"{rule.name}-{index}" for index, rule in enumerate(RULES)])
def test_a_post_without_a_csrf_token_is_refused_and_writes_nothing(rule):
    world = build_world()
    path = reverse(rule.name, kwargs=rule.kwargs(world))
    before = row_counts()

    for role in ROLES:
        client = Client(enforce_csrf_checks=True)
        if world.users[role]:
            client.force_login(world.users[role])
        # What a form on another site would send: the fields, without the token.
        response = client.post(path, {"privacy_agreed": "on", "password": PASSWORD, "action": "cancel"})

        assert response.status_code == 403, f"{rule.name} ({path}) as {role}: {response.status_code}"
        assert "This form has expired" in body(response), (path, role)
    assert row_counts() == before
