import datetime as dt
import html
import json
import re

import lxml.html
import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from agenda.models import Conference
from outbox.emails import build_message
from outbox.models import OutgoingEmail
from registration import services
from registration.forms import privacy_digest
from registration.models import Booking, Registration, RegistrationChange, User
from registration.selectors import privacy_statement
from tests.conference.test_cache import redis_down  # noqa: F401 (a fixture)
from tests.emails import written
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    PreEventFactory,
    RegistrationFactory,
    UserFactory,
    attendee_details,
)

pytestmark = pytest.mark.django_db

Status = Registration.Status


def register_url(conference) -> str:
    return reverse("registration:register", kwargs={"slug": conference.slug})


def mine_url(conference) -> str:
    return reverse("registration:mine", kwargs={"slug": conference.slug})


def url(name: str, conference) -> str:
    return reverse(f"registration:{name}", kwargs={"slug": conference.slug})


def form_data(conference, *, sessions=(), **overrides) -> dict:
    data = {
        **attendee_details(),
        "pre_events": [str(session.pk) for session in sessions],
        "privacy_agreed": "on",
        "privacy_digest": privacy_digest(privacy_statement(conference)),
        **overrides,
    }
    return data


@pytest.fixture
def attendee(client):
    user = UserFactory(email="elzbieta@example.eu")
    client.force_login(user)
    return user


def text(response) -> str:
    """The page's visible words, tags removed and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_register_sends_someone_logged_out_to_log_in_and_back(client):
    conference = ConferenceFactory()

    response = client.get(register_url(conference))

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={register_url(conference)}"


def test_register_round_trip_through_sign_up_and_email_verification_returns_to_the_form(client):
    conference = ConferenceFactory()
    next_url = register_url(conference)

    signup = client.post(
        f"/accounts/signup/?next={next_url}",
        {"email": "new@example.eu", "password1": "Klastry-2017-Valencia", "password2": "Klastry-2017-Valencia"},
    )
    assert signup.status_code == 302
    email = written(OutgoingEmail.objects.get(to="new@example.eu"))
    confirm_path = re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", email.body_text).group(1)
    confirmed = client.post(confirm_path)

    assert confirmed.status_code == 302
    assert confirmed["Location"] == next_url
    form = client.get(next_url)
    assert form.status_code == 200
    assert "Register for" in text(form)
    assert EmailAddress.objects.get(email="new@example.eu").verified


def test_register_form_offers_sessions_with_seats_and_the_waiting_list(client, attendee):
    conference = ConferenceFactory(timezone="Europe/Madrid")
    roomy = PreEventFactory(conference=conference, title="Smart specialisation lab", capacity=3)
    full = PreEventFactory(conference=conference, title="Cluster excellence", capacity=1, start=roomy.end)
    BookingFactory(session=full, registration__conference=conference)

    response = client.get(register_url(conference))

    page = text(response)
    assert response.status_code == 200
    assert "Smart specialisation lab" in page
    assert "3 seats left" in page
    assert "Cluster excellence" in page
    assert "Full: tick to join the waiting list" in page
    assert "(Europe/Madrid)" in page
    assert conference.privacy_statement in page
    assert f'value="{privacy_digest(privacy_statement(conference))}"' in response.content.decode()


def test_register_form_is_filled_in_from_the_last_registration(client, attendee):
    RegistrationFactory(user=attendee, organisation="Klaster Lodz", job_title="Analyst", country="PL")
    conference = ConferenceFactory()

    response = client.get(register_url(conference))

    form = response.context["form"]
    assert form["organisation"].value() == "Klaster Lodz"
    assert form["job_title"].value() == "Analyst"
    assert form["country"].value() == "PL"


@pytest.mark.parametrize("state", [{"is_published": False}, {"is_cancelled": True}])
def test_pages_of_an_unpublished_or_cancelled_conference_are_404(client, attendee, state):
    conference = ConferenceFactory(**state)
    RegistrationFactory(conference=conference, user=attendee)

    for name in ("register", "mine", "edit", "cancel"):
        assert client.get(url(name, conference)).status_code == 404
    assert client.post(register_url(conference), form_data(conference)).status_code == 404


def test_register_confirms_and_the_page_says_so(client, attendee):
    conference = ConferenceFactory(name="GROW your REGIOn")
    workshop = PreEventFactory(conference=conference, title="Smart specialisation lab")

    response = client.post(register_url(conference), form_data(conference, sessions=[workshop]), follow=True)

    registration = Registration.objects.get(user=attendee)
    assert registration.status == Status.CONFIRMED
    assert registration.privacy_statement_agreed == privacy_statement(conference)
    assert response.redirect_chain == [(mine_url(conference), 302)]
    page = text(response)
    assert "Your place at GROW your REGIOn is confirmed. Your registration number is 1." in page
    assert "Smart specialisation lab" in page
    assert "Seat confirmed" in page
    assert OutgoingEmail.objects.filter(to=attendee.email, kind="confirmed").exists()


def test_register_when_full_says_the_waiting_list_position(client, attendee):
    conference = ConferenceFactory(capacity=2)
    RegistrationFactory.create_batch(2, conference=conference)
    RegistrationFactory(conference=conference, status=Status.WAITLISTED)

    form_page = client.get(register_url(conference))
    response = client.post(register_url(conference), form_data(conference), follow=True)

    assert "The conference is full" in text(form_page)
    assert "you are on the waiting list, at position 2" in text(response)
    assert Registration.objects.get(user=attendee).status == Status.WAITLISTED


def test_register_where_approval_is_required_says_it_is_pending(client, attendee):
    conference = ConferenceFactory(requires_approval=True)

    response = client.post(register_url(conference), form_data(conference), follow=True)

    assert "Pending approval" in text(response)
    assert "waiting for their approval" in text(response)


def test_register_with_real_names_and_free_text_saves_them_and_shows_them_escaped(client, attendee):
    conference = ConferenceFactory()
    typed = {
        "given_name": "Marcel·la",
        "family_name": "Gil·labert, Jr. III",
        "organisation": "Łódź Region®",
        "dietary_requirements": "Keep my insulin at 4°C",
        "accessibility_needs": "table height < 75 cm <b>please</b>",
    }

    response = client.post(register_url(conference), form_data(conference, **typed), follow=True)

    registration = Registration.objects.get(user=attendee)
    assert {name: getattr(registration, name) for name in typed} == typed
    page = response.content.decode()
    assert "table height &lt; 75 cm &lt;b&gt;please&lt;/b&gt;" in page
    assert "<b>please</b>" not in page
    assert "Marcel·la" in text(response)


def test_register_twice_answers_409_with_the_existing_registration(client, attendee):
    conference = ConferenceFactory()
    client.post(register_url(conference), form_data(conference))

    response = client.post(register_url(conference), form_data(conference, given_name="Zofia"))

    assert response.status_code == 409
    assert "You are already registered for this conference; nothing was changed." in text(response)
    assert "Your registration number is 1." in text(response)
    assert Registration.objects.get(user=attendee).given_name == "Elźbieta"


def test_register_again_from_the_form_page_goes_to_the_registration(client, attendee):
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, user=attendee)

    response = client.get(register_url(conference), follow=True)

    assert response.redirect_chain == [(mine_url(conference), 302)]
    assert "You are already registered; here is your registration." in text(response)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "Enter your given name."),
        ({"organisation_type": ""}, "organisation_type", "Choose the type of your organisation."),
        ({"given_name": "E" * 101}, "given_name", "Shorten this to at most 100 characters (it has 101)."),
        ({"family_name": "<script>alert(1)</script>\u200b"}, "family_name", "Leave out invisible characters"),
        ({"given_name": "Ela\u202e"}, "given_name", "zero-width spaces and direction marks"),
        ({"given_name": "Ela\r\nNowak"}, "given_name", "Write this on one line."),
        ({"organisation": "Klaster\x07"}, "organisation", "Leave out invisible characters"),
        ({"country": "XX"}, "country", "Choose a country from the list."),
        ({"organisation_type": "pirate"}, "organisation_type", "Choose one of the organisation types in the list."),
        ({"privacy_agreed": ""}, "privacy_agreed", "Agree to the privacy statement to register."),
        ({"privacy_digest": "0" * 64}, "privacy_agreed", "The privacy statement has changed since the form was opened"),
        ({"pre_events": ["99999999"]}, "pre_events", "One of the chosen pre-events cannot be booked for this"),
        ({"pre_events": ["abc"]}, "pre_events", "one of those sent is not offered here"),
        (
            {"dietary_requirements": "x\x00y"},
            "dietary_requirements",
            "Leave out invisible characters such as null characters.",
        ),
    ],
)
def test_register_with_bad_input_answers_400_with_the_error_and_saves_nothing(
    client, attendee, overrides, field, message
):
    conference = ConferenceFactory()

    response = client.post(register_url(conference), form_data(conference, **overrides))

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in text(response)
    assert "There is a problem" in text(response)
    assert f'href="#id_{field}"' in response.content.decode()
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Registration.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_register_with_errors_puts_the_summary_first_and_links_each_error_to_its_field(client, attendee):
    conference = ConferenceFactory()
    PreEventFactory(conference=conference)
    data = form_data(conference, given_name="", country="XX", pre_events=["abc"])
    del data["privacy_agreed"]

    response = client.post(register_url(conference), data)

    main = lxml.html.fromstring(response.content).get_element_by_id("main")
    summary = main[0]
    assert summary.get("class") == "error-summary"
    assert summary.get("tabindex") == "-1"
    links = summary.findall(".//a")
    assert [link.get("href") for link in links] == [
        "#id_given_name",
        "#id_country",
        "#id_pre_events",
        "#id_privacy_agreed",
    ]
    for link in links:
        target = main.get_element_by_id(link.get("href")[1:])
        described_by = target.get("aria-describedby").split()
        # Each field (or the group of pre-events) names its error, which says what the summary says.
        error = main.get_element_by_id(f"{target.get('id')}_error")
        assert error.get("id") in described_by
        assert error.text_content().strip() in link.text_content()
        if target.tag != "fieldset":
            assert target.get("aria-invalid") == "true"
    assert main.get_element_by_id("id_family_name").get("aria-invalid") is None


def test_register_for_a_conference_deleted_since_its_page_was_cached_answers_404(client, attendee):
    conference = ConferenceFactory()
    data = form_data(conference)
    assert client.get(register_url(conference)).status_code == 200  # the conference now in the cache
    Conference.objects.filter(pk=conference.pk).delete()

    response = client.post(register_url(conference), data)

    assert response.status_code == 404
    assert not Registration.objects.exists()


def test_register_for_a_pre_event_of_another_conference_is_refused(client, attendee):
    conference = ConferenceFactory()
    elsewhere = PreEventFactory()

    response = client.post(register_url(conference), form_data(conference, sessions=[elsewhere]))

    assert response.status_code == 400
    assert "One of the chosen pre-events cannot be booked for this conference." in text(response)
    assert not Booking.objects.exists()
    assert not Registration.objects.exists()


def test_register_for_overlapping_pre_events_is_refused_by_name(client, attendee):
    conference = ConferenceFactory()
    first = PreEventFactory(conference=conference, title="Smart specialisation lab")
    second = PreEventFactory(conference=conference, title="Cluster excellence", start=first.start)

    response = client.post(register_url(conference), form_data(conference, sessions=[first, second]))

    assert response.status_code == 400
    assert "run at the same time; choose one of them." in text(response)
    assert not Registration.objects.exists()


def test_register_with_an_expired_csrf_token_is_refused(attendee):
    conference = ConferenceFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(attendee)

    response = client.post(register_url(conference), {**form_data(conference), "csrfmiddlewaretoken": "x" * 64})

    assert response.status_code == 403
    assert not Registration.objects.exists()


def test_register_before_the_window_opens_says_when(client, attendee):
    opens = timezone.now() + dt.timedelta(days=2)
    conference = ConferenceFactory(registration_opens=opens, timezone="Europe/Brussels")

    page = client.get(register_url(conference))
    refused = client.post(register_url(conference), form_data(conference))

    local = timezone.localtime(opens, conference.tz)
    assert page.status_code == 200
    assert f"Registration opens on {local:%-d %B %Y, %H:%M} (Europe/Brussels)." in text(page)
    assert refused.status_code == 403
    assert not Registration.objects.exists()


def test_register_after_the_window_closed_says_so(client, attendee):
    conference = ConferenceFactory(
        registration_opens=timezone.now() - dt.timedelta(days=9), registration_closes=timezone.now()
    )

    response = client.get(register_url(conference))

    assert "Registration closed on" in text(response)
    assert "privacy_agreed" not in response.content.decode()


def test_correcting_the_details_form_twenty_times_in_a_minute_never_locks_one_out(client, attendee):
    conference = ConferenceFactory()
    registration = RegistrationFactory(conference=conference, user=attendee)

    corrections = [
        client.post(url("edit", conference), attendee_details(family_name="")).status_code for _ in range(20)
    ]
    response = client.post(url("edit", conference), attendee_details(family_name="Gil·labert"), follow=True)

    assert corrections == [400] * 20
    assert "Your details are saved." in text(response)
    registration.refresh_from_db()
    assert registration.family_name == "Gil·labert"


# Small limits keep these tests short: each Redis round trip under a loaded machine is a
# chance for the limiter to fail open, as it is meant to when Redis does not answer in time.
SMALL_LIMITS = {"registration": "3/m/user,5/m/ip", "registration_failed": "5/m/user,7/m/ip"}


@override_settings(ACCOUNT_RATE_LIMITS=SMALL_LIMITS)
def test_a_flood_of_accepted_registration_posts_is_refused_per_user(client, attendee):
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, user=attendee)

    statuses = [
        client.post(url("edit", conference), attendee_details(job_title=f"Manager {n}")).status_code for n in range(4)
    ]

    assert statuses == [302, 302, 302, 429]
    assert "Too many attempts" in text(client.post(url("edit", conference), attendee_details(family_name="")))
    assert Registration.objects.get(user=attendee).job_title == "Manager 2"


@override_settings(ACCOUNT_RATE_LIMITS=SMALL_LIMITS)
def test_forms_sent_back_with_errors_do_not_use_up_the_accepted_posts(client, attendee):
    conference = ConferenceFactory()
    bad = form_data(conference, given_name="")

    statuses = [client.post(register_url(conference), bad).status_code for _ in range(4)]

    assert statuses == [400] * 4
    assert client.post(register_url(conference), form_data(conference)).status_code == 302
    assert Registration.objects.filter(user=attendee).exists()


@override_settings(ACCOUNT_RATE_LIMITS=SMALL_LIMITS)
def test_a_flood_of_forms_with_errors_is_refused_then_the_right_one_too(client, attendee):
    conference = ConferenceFactory()
    bad = form_data(conference, given_name="")

    statuses = [client.post(register_url(conference), bad).status_code for _ in range(6)]

    assert statuses == [400] * 5 + [429]
    assert client.post(register_url(conference), form_data(conference)).status_code == 429
    assert client.get(register_url(conference)).status_code == 200
    assert not Registration.objects.exists()


@override_settings(ACCOUNT_RATE_LIMITS=SMALL_LIMITS)
def test_registration_posts_are_rate_limited_per_address():
    conference = ConferenceFactory()
    statuses = []
    for _ in range(8):
        client = Client(REMOTE_ADDR="192.0.2.7")
        client.force_login(UserFactory())
        statuses.append(client.post(register_url(conference), form_data(conference, given_name="")).status_code)
    elsewhere = Client(REMOTE_ADDR="192.0.2.8")
    elsewhere.force_login(UserFactory())

    assert statuses == [400] * 7 + [429]
    assert "Too many attempts" in text(client.post(register_url(conference), form_data(conference)))
    assert elsewhere.post(register_url(conference), form_data(conference)).status_code == 302


@override_settings(ACCOUNT_RATE_LIMITS=SMALL_LIMITS)
def test_failed_and_accepted_posts_are_counted_apart_while_redis_is_down(client, attendee, redis_down):  # noqa: F811
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, user=attendee)

    failed = [client.post(url("edit", conference), attendee_details(family_name="")).status_code for _ in range(4)]
    accepted = [client.post(url("edit", conference), attendee_details()).status_code for _ in range(4)]

    assert failed == [400] * 4
    assert accepted == [302, 302, 302, 429]


def test_registration_rate_limits_are_per_user_and_per_address():
    assert settings.ACCOUNT_RATE_LIMITS["registration"] == "10/m/user,60/m/ip"
    assert settings.ACCOUNT_RATE_LIMITS["registration_failed"] == "60/m/user,300/m/ip"


def test_my_registration_never_shows_another_attendees(client, attendee):
    conference = ConferenceFactory()
    RegistrationFactory(conference=conference, family_name="Kowalczyk")

    page = client.get(mine_url(conference))

    assert page.status_code == 302
    assert page["Location"] == register_url(conference)
    for name in ("edit", "pre_events", "cancel"):
        assert client.get(url(name, conference)).status_code == 404
        assert client.post(url(name, conference)).status_code == 404
    assert "Kowalczyk" not in json.dumps(client.get(url("export", conference)).json())


def test_my_registration_shows_the_status_details_and_bookings(client, attendee):
    conference = ConferenceFactory(timezone="Europe/Madrid")
    registration = RegistrationFactory(
        conference=conference, user=attendee, family_name="Bieńkowska", dietary_requirements="Vegan"
    )
    BookingFactory(registration=registration, session__title="Smart specialisation lab")

    page = text(client.get(mine_url(conference)))

    assert "Elźbieta Bieńkowska" in page
    assert "Vegan" in page
    assert "Poland" in page
    assert "Smart specialisation lab" in page
    assert "(Europe/Madrid)" in page
    assert "Cancel your registration" in page


def test_my_registration_shows_the_seat_queue_position(client, attendee):
    conference = ConferenceFactory()
    workshop = PreEventFactory(conference=conference, capacity=1)
    services.register(
        UserFactory(),
        conference,
        details=attendee_details(),
        session_ids=[workshop.pk],
        privacy_statement=privacy_statement(conference),
    )
    services.register(
        attendee,
        conference,
        details=attendee_details(),
        session_ids=[workshop.pk],
        privacy_statement=privacy_statement(conference),
    )

    assert "On its waiting list, at position 1" in text(client.get(mine_url(conference)))


def test_my_registration_page_takes_the_same_queries_for_one_and_many_bookings(
    client, attendee, django_assert_num_queries
):
    few = ConferenceFactory()
    BookingFactory(registration__conference=few, registration__user=attendee)
    many = ConferenceFactory()
    registration = RegistrationFactory(conference=many, user=attendee)
    for hour in range(8):
        BookingFactory(registration=registration, session__start=timezone.now() + dt.timedelta(days=30, hours=hour))
    client.get(mine_url(few))  # warm the session and the cached lookups, site-wide and per conference
    client.get(mine_url(many))

    with django_assert_num_queries(4) as few_queries:
        client.get(mine_url(few))
    with django_assert_num_queries(len(few_queries.captured_queries)):
        client.get(mine_url(many))


def test_register_form_takes_the_same_queries_for_one_and_many_sessions(client, attendee, django_assert_num_queries):
    few = ConferenceFactory()
    PreEventFactory(conference=few)
    many = ConferenceFactory()
    PreEventFactory.create_batch(12, conference=many)
    client.get(register_url(few))  # warm the session and the cached lookups, site-wide and per conference
    client.get(register_url(many))

    with django_assert_num_queries(5) as few_queries:
        client.get(register_url(few))
    with django_assert_num_queries(len(few_queries.captured_queries)):
        client.get(register_url(many))


def test_edit_details_saves_through_the_history(client, attendee):
    conference = ConferenceFactory()
    registration = RegistrationFactory(conference=conference, user=attendee, job_title="Analyst")

    response = client.post(url("edit", conference), attendee_details(job_title="Cluster manager"), follow=True)

    registration.refresh_from_db()
    assert registration.job_title == "Cluster manager"
    assert "Your details are saved." in text(response)
    change = registration.changes.get()
    assert (change.action, change.actor) == (RegistrationChange.Action.DETAILS_CHANGED, attendee)


def test_edit_details_with_bad_input_changes_nothing(client, attendee):
    conference = ConferenceFactory()
    registration = RegistrationFactory(conference=conference, user=attendee)

    response = client.post(url("edit", conference), attendee_details(given_name="<img src=x>\u200b"))

    assert response.status_code == 400
    registration.refresh_from_db()
    assert registration.given_name == "Elźbieta"
    assert not registration.changes.exists()


def test_change_pre_events_moves_the_seat(client, attendee):
    conference = ConferenceFactory()
    first = PreEventFactory(conference=conference, title="Smart specialisation lab")
    second = PreEventFactory(conference=conference, title="Cluster excellence", start=first.start)
    registration = services.register(
        attendee,
        conference,
        details=attendee_details(),
        session_ids=[first.pk],
        privacy_statement=privacy_statement(conference),
    )

    form = client.get(url("pre_events", conference))
    response = client.post(url("pre_events", conference), {"pre_events": [str(second.pk)]}, follow=True)

    assert f'value="{first.pk}" id="id_pre_events_0" aria-describedby="id_pre_events_0_about" checked' in (
        form.content.decode()
    )
    assert "Your pre-event choices are saved." in text(response)
    assert list(registration.bookings.values_list("session__title", "status")) == [("Cluster excellence", "confirmed")]


def test_change_pre_events_to_overlapping_ones_is_refused(client, attendee):
    conference = ConferenceFactory()
    first = PreEventFactory(conference=conference, title="Smart specialisation lab")
    second = PreEventFactory(conference=conference, title="Cluster excellence", start=first.start)
    RegistrationFactory(conference=conference, user=attendee)

    response = client.post(url("pre_events", conference), {"pre_events": [str(first.pk), str(second.pk)]})

    assert response.status_code == 400
    assert "run at the same time" in text(response)
    assert not Booking.objects.exists()


def test_cancel_asks_once_then_cancels(client, attendee):
    conference = ConferenceFactory()
    registration = RegistrationFactory(conference=conference, user=attendee)

    question = client.get(url("cancel", conference))
    response = client.post(url("cancel", conference), follow=True)

    assert "Yes, cancel my registration" in text(question)
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED
    assert "This registration is cancelled." in text(response)
    assert "Register again" in text(response)
    assert OutgoingEmail.objects.filter(to=attendee.email, kind="cancelled").exists()


def test_changes_after_the_conference_began_are_refused_with_a_reason(client, attendee):
    conference = ConferenceFactory(
        start_date=timezone.localdate(),
        registration_opens=timezone.now() - dt.timedelta(days=9),
        registration_closes=timezone.now() - dt.timedelta(days=1),
        contact_email="team@example.eu",
    )
    registration = RegistrationFactory(conference=conference, user=attendee)

    for name in ("edit", "pre_events", "cancel"):
        response = client.post(url(name, conference), attendee_details())
        assert response.status_code == 403
        assert "The conference has begun" in text(response)
    assert "team@example.eu" in text(client.get(mine_url(conference)))
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


def test_export_gives_the_attendee_their_own_data_as_json(client, attendee):
    conference = ConferenceFactory(name="GROW your REGIOn")
    services.register(
        attendee,
        conference,
        details=attendee_details(),
        session_ids=[],
        privacy_statement=privacy_statement(conference),
    )
    RegistrationFactory(conference=conference, family_name="Kowalczyk")

    response = client.get(url("export", conference))

    assert response["Content-Disposition"] == f'attachment; filename="my-data-{conference.slug}.json"'
    data = json.loads(response.content)
    assert data["account"]["email"] == "elzbieta@example.eu"
    (registration,) = data["registrations"]
    assert registration["conference"] == "GROW your REGIOn"
    assert registration["family_name"] == "Bieńkowska"
    assert registration["privacy_statement_agreed"] == privacy_statement(conference)
    assert registration["history"][0]["by"] == "you"
    assert data["emails"][0]["kind"] == "confirmed"
    assert "Kowalczyk" not in response.content.decode()


def test_delete_account_needs_the_password_then_erases_and_logs_out(client, attendee):
    conference = ConferenceFactory()
    registration = RegistrationFactory(conference=conference, user=attendee)

    wrong = client.post(url("delete_account", conference), {"password": "guess"})
    assert wrong.status_code == 400
    assert "That is not your password" in text(wrong)
    response = client.post(url("delete_account", conference), {"password": "correct horse battery staple"}, follow=True)

    assert not User.objects.filter(email="elzbieta@example.eu").exists()
    registration.refresh_from_db()
    assert (registration.user, registration.family_name, registration.status) == (None, "", Status.CANCELLED)
    assert "Your account is deleted and your personal data erased." in text(response)
    assert "Log in" in text(response)


# Languages


def chosen_language(response) -> str:
    """The language selected in a form's "language for emails" list."""
    return lxml.html.fromstring(response.content).get_element_by_id("id_language").value


def test_language_switch_is_kept_on_the_account_of_a_logged_in_user(client, attendee):
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    attendee.refresh_from_db()
    assert attendee.language == "de"
    assert chosen_language(client.get(register_url(ConferenceFactory()))) == "de"


def test_language_switch_keeps_nothing_for_a_visitor_or_an_unknown_language(client, attendee):
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    Client().post("/i18n/setlang/", {"language": "fr", "next": "/"})

    attendee.refresh_from_db()
    assert attendee.language == "en"


def test_language_chosen_for_a_registration_is_that_registrations_only(client, attendee):
    conference = ConferenceFactory()
    client.post(register_url(conference), form_data(conference, language="fr"))
    attendee.refresh_from_db()

    assert (Registration.objects.get().language, attendee.language) == ("fr", "en")
    assert chosen_language(client.get(register_url(ConferenceFactory()))) == "en"


def test_attendee_who_reads_german_gets_her_emails_in_german(client, attendee):
    conference = ConferenceFactory(start_date=dt.date(2099, 11, 11), end_date=dt.date(2099, 11, 12))
    workshop = PreEventFactory(conference=conference, title="Cluster excellence clinic")
    client.post("/i18n/setlang/", {"language": "de", "next": register_url(conference)})
    form = client.get(register_url(conference))
    assert '<html lang="de">' in form.content.decode()

    client.post(register_url(conference), form_data(conference, sessions=[workshop], language=chosen_language(form)))

    registration = Registration.objects.get()
    email = written(OutgoingEmail.objects.get(to=registration.user.email, kind="confirmed"))
    assert (registration.language, email.language) == ("de", "de")
    assert build_message(email).message()["Content-Language"] == "de"
    # Dates as German readers write them, Django's German weekday and month names among them.
    assert "11. November 2099 – 12. November 2099" in email.body_text
    assert "- Cluster excellence clinic: Mittwoch, 11. November 2099, 09:00–10:00 (Europe/Madrid)" in email.body_text
    assert '<html lang="de" dir="ltr">' in email.body_html


def five_pre_events_at_once(conference) -> list:
    """The demo's afternoon: five pre-events, all 14:00–17:30."""
    start = dt.datetime.combine(conference.start_date - dt.timedelta(days=1), dt.time(14), tzinfo=conference.tz)
    return [
        PreEventFactory(conference=conference, title=f"Workshop {n}", start=start, end=start + dt.timedelta(hours=3.5))
        for n in range(5)
    ]


def test_pre_events_that_all_run_at_once_are_one_choice_or_none(client, attendee):
    conference = ConferenceFactory()
    sessions = five_pre_events_at_once(conference)

    page = lxml.html.fromstring(client.get(register_url(conference)).content)

    fieldset = page.get_element_by_id("id_pre_events")
    inputs = fieldset.xpath(".//input[@name='pre_events']")
    assert [(field.get("type"), field.get("value")) for field in inputs] == [
        *[("radio", str(session.pk)) for session in sessions],
        ("radio", ""),
    ]
    assert inputs[-1].get("checked") is not None  # none, until one is chosen
    assert fieldset.xpath("string(.//label[@for='id_pre_events_none'])") == "None of them"
    assert "These pre-events all run at the same time: choose one, or none." in fieldset.text_content()
    assert not fieldset.find_class("overlap-note")


def test_choosing_one_of_the_pre_events_that_run_at_once_or_none_registers(client, attendee):
    conference = ConferenceFactory()
    sessions = five_pre_events_at_once(conference)

    response = client.post(register_url(conference), form_data(conference, sessions=[sessions[2]]))
    assert response.status_code == 302
    assert list(Booking.objects.values_list("session__title", flat=True)) == ["Workshop 2"]

    response = client.post(url("pre_events", conference), {"pre_events": [""]})
    assert response.status_code == 302
    assert not Booking.objects.exists()


def test_two_of_the_pre_events_that_run_at_once_are_refused_by_name(client, attendee):
    conference = ConferenceFactory()
    sessions = five_pre_events_at_once(conference)

    response = client.post(register_url(conference), form_data(conference, sessions=sessions[:2]))

    assert response.status_code == 400
    assert "“Workshop 0” and “Workshop 1” run at the same time; choose one of them." in text(response)
    assert not Registration.objects.exists()


def test_pre_events_of_which_some_overlap_say_which_before_submitting(client, attendee):
    conference = ConferenceFactory()
    morning = PreEventFactory(conference=conference, title="Cluster excellence")
    lab = PreEventFactory(
        conference=conference, title="Smart specialisation lab", start=morning.start + dt.timedelta(minutes=30)
    )
    later = PreEventFactory(conference=conference, title="Green clusters", start=morning.end + dt.timedelta(hours=1))
    registration = RegistrationFactory(conference=conference, user=attendee)

    page = lxml.html.fromstring(client.get(url("pre_events", conference)).content)

    fieldset = page.get_element_by_id("id_pre_events")
    assert {field.get("type") for field in fieldset.xpath(".//input[@name='pre_events']")} == {"checkbox"}
    about = {
        label.text_content(): fieldset.get_element_by_id(f"{label.get('for')}_about").text_content()
        for label in fieldset.iter("label")
    }
    note = "Runs at the same time as {}: you can take only one of them."
    assert note.format("“Smart specialisation lab”") in about["Cluster excellence"]
    assert note.format("“Cluster excellence”") in about["Smart specialisation lab"]
    assert "Runs at the same time" not in about["Green clusters"]
    # Both together are refused by name; one of them with the later one is fine.
    response = client.post(url("pre_events", conference), {"pre_events": [str(morning.pk), str(lab.pk)]})
    assert "“Cluster excellence” and “Smart specialisation lab” run at the same time" in text(response)
    client.post(url("pre_events", conference), {"pre_events": [str(lab.pk), str(later.pk)]})
    assert sorted(registration.bookings.values_list("session__title", flat=True)) == [
        "Green clusters",
        "Smart specialisation lab",
    ]


def test_booking_a_pre_event_of_a_conference_that_has_ended_is_refused(client, attendee):
    today = timezone.localdate()
    conference = ConferenceFactory(
        start_date=today - dt.timedelta(days=30),
        registration_opens=timezone.now() - dt.timedelta(days=90),
        registration_closes=timezone.now() - dt.timedelta(days=31),
    )
    pre_event = PreEventFactory(conference=conference, start=timezone.now() - dt.timedelta(days=31))
    RegistrationFactory(conference=conference, user=attendee)

    booking = client.post(url("pre_events", conference), {"pre_events": [str(pre_event.pk)]})
    form = client.get(url("pre_events", conference))
    stranger = Client()
    stranger.force_login(UserFactory())
    registering = stranger.post(register_url(conference), form_data(conference, sessions=[pre_event]))

    assert booking.status_code == 403
    assert "The conference has begun, so the registration can no longer be changed here." in text(booking)
    assert "seat" not in text(form)
    assert registering.status_code == 403
    assert "seat" not in text(registering)
    assert not Booking.objects.exists()
