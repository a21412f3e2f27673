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
from agenda.models import Conference, Session, Speaker
from outbox.models import OutgoingEmail
from registration.models import Booking, ExportRecord, Registration, RegistrationChange, User
from tests.factories import (
    PASSWORD,
    ConferenceFactory,
    OrganiserFactory,
    RegistrationFactory,
    SessionSpeakerFactory,
    StaffFactory,
    TeamFactory,
    VerifiedUserFactory,
)


class Outcome(enum.Enum):
    OK = "the page"
    REDIRECT = "a redirect within the site"
    LOGIN = "a redirect to log in"
    ADMIN_LOGIN = "a redirect to the admin's login"
    BAD_REQUEST = "a 400"
    FORBIDDEN = "the 403 page"
    NOT_FOUND = "the 404 page"


OK, REDIRECT, LOGIN, ADMIN_LOGIN, BAD_REQUEST, FORBIDDEN, NOT_FOUND = Outcome


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
ROLES = list(Access.__dataclass_fields__)
# What the project's views write; a POST refused for want of its CSRF token changes none of it.
WRITTEN_BY_VIEWS = (User, Registration, Booking, RegistrationChange, OutgoingEmail, ExportRecord, TeamInvitation)


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


def session(world: World) -> dict:
    return {"slug": world.conference.slug, "code": world.pre_event.code}


def speaker(world: World) -> dict:
    return {"slug": world.conference.slug, "code": world.speaker.code}


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
    Rule("healthz", EVERYONE),
    Rule("favicon", everyone(REDIRECT)),
    Rule("registration:register", Access(LOGIN, REDIRECT, REDIRECT, OK, OK, OK), slug),
    Rule("registration:mine", Access(LOGIN, OK, OK, REDIRECT, REDIRECT, REDIRECT), slug),
    Rule("registration:edit", REGISTERED, slug),
    Rule("registration:pre_events", REGISTERED, slug),
    Rule("registration:cancel", REGISTERED, slug),
    Rule("registration:export", SIGNED_IN, slug),  # all of the account's own data
    Rule("registration:delete_account", SIGNED_IN, slug),
    Rule("registration:staff_dashboard", STAFF, slug),
    Rule("registration:staff_dashboard", STAFF, draft_slug),
    Rule("registration:attendees_csv", EXPORTERS, slug),
    Rule("registration:check_in_csv", EXPORTERS, slug),
    Rule(
        "registration:session_csv",
        EXPORTERS,
        session,
    ),
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
    Rule("admin:login", Access(OK, OK, OK, REDIRECT, REDIRECT, REDIRECT)),
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
        case Outcome.BAD_REQUEST:
            assert response.status_code == 400
            assert "SECRET_KEY" not in content
        case Outcome.FORBIDDEN:
            assert response.status_code == 403
            assert "You are not allowed to see this page" in content
        case Outcome.NOT_FOUND:
            assert response.status_code == 404
            assert "Page not found" in content


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
