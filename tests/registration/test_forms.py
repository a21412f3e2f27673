import pytest

from registration.forms import DetailsForm, PreEventsForm, RegistrationForm, privacy_digest
from registration.selectors import privacy_statement
from tests.factories import BookingFactory, ConferenceFactory, PreEventFactory, SessionFactory, attendee_details

pytestmark = pytest.mark.django_db


def registration_data(conference, **overrides) -> dict:
    data = {
        **attendee_details(),
        "privacy_agreed": "on",
        "privacy_digest": privacy_digest(privacy_statement(conference)),
        **overrides,
    }
    return data


@pytest.mark.parametrize(
    "name",
    [
        "Elźbieta",
        "Bieńkowska",
        "O’Brien",
        "Jean-Luc",
        "Dr. Smith",
        "Ἀθηνᾶ",
        "Юлия",
        "Zoë",
        "Bien\u0301kowska",
        "Marcel·la Gil·labert",
        "King, Jr.",
        "Henry Ford III",
        "Ford 3rd",
        "Nguyễn Thị Minh Khai",
        "محمد",
        "王秀英",
        "अनुष्का",
        "Ana (Anni)",
    ],
)
def test_names_people_really_have_are_accepted(name):
    form = DetailsForm(attendee_details(given_name=name, family_name=name))

    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Ela\u200bNowak", "Leave out invisible characters such as control characters, zero-width spaces"),
        ("Ela\ufeff", "Leave out invisible characters"),
        ("Ela\u202eakwon", "Leave out invisible characters"),
        ("Ela\u2066Nowak\u2069", "Leave out invisible characters"),
        ("Ela\x1b[31m", "Leave out invisible characters"),
        ("Ela\x00", "Leave out invisible characters such as null characters."),
        ("Ela\nNowak", "Write this on one line."),
        ("---", "Enter a name with letters."),
    ],
)
def test_names_with_hidden_characters_line_breaks_or_no_letters_are_refused_saying_why(name, message):
    form = DetailsForm(attendee_details(given_name=name))

    assert not form.is_valid()
    assert any(message in error for error in form.errors["given_name"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("organisation", "AT&T Cluster (Europe) GmbH & Co. KG"),
        ("organisation", "Cluster 55 – Łódź"),
        ("organisation", "Łódź Region®"),
        ("organisation", "Ü-Bau/Forschung"),
        ("job_title", "Head of R&D <Smart Specialisation>"),
        ("dietary_requirements", "Keep my insulin at 4°C"),
        ("accessibility_needs", "table height < 75 cm\r\nStep-free access"),
        ("accessibility_needs", "Wheelchair ♿, guide dog 🦮"),
    ],
)
def test_free_text_with_symbols_markup_and_line_breaks_is_accepted(field, value):
    form = DetailsForm(attendee_details(**{field: value}))

    assert form.is_valid(), form.errors
    assert form.cleaned_data[field] == value


def test_free_text_with_hidden_characters_is_refused_saying_why():
    form = DetailsForm(attendee_details(dietary_requirements="No nuts\u200b", organisation="Klaster\u202e"))

    assert not form.is_valid()
    assert form.errors["dietary_requirements"] == [
        "Leave out invisible characters such as control characters, zero-width spaces and direction marks; "
        "they often come along with copied text."
    ]
    assert form.errors["organisation"] == form.errors["dietary_requirements"]


def test_whitespace_only_counts_as_missing():
    form = DetailsForm(attendee_details(family_name="   "))

    assert form.errors["family_name"] == ["Enter your family name."]


def test_fields_are_labelled_and_say_their_limits():
    form = DetailsForm()

    rendered = str(form["given_name"].as_field_group())
    assert '<label for="id_given_name">Given name:</label>' in rendered
    assert 'maxlength="100"' in rendered
    assert 'autocomplete="given-name"' in rendered


def test_a_stale_privacy_fingerprint_is_an_error_beside_the_agreement():
    conference = ConferenceFactory()

    form = RegistrationForm(registration_data(conference, privacy_digest="f" * 64), conference=conference)

    assert not form.is_valid()
    assert form.errors["privacy_agreed"] == [
        "The privacy statement has changed since the form was opened; read it again and agree."
    ]
    assert "privacy_digest" not in form.errors


def test_only_sessions_of_this_conference_with_sign_up_are_offered():
    conference = ConferenceFactory()
    workshop = PreEventFactory(conference=conference, capacity=2)
    SessionFactory(conference=conference)
    PreEventFactory(conference=conference, status="cancelled")
    PreEventFactory()  # of another conference
    BookingFactory(session=workshop, registration__conference=conference)

    form = PreEventsForm(conference=conference)

    assert [option["session"] for option in form.session_options()] == [workshop]
    assert form.session_options()[0]["seats_left"] == 1


def test_pre_events_are_read_as_ids_and_checked_by_the_service_alone(django_assert_num_queries):
    conference = ConferenceFactory()
    elsewhere = PreEventFactory()

    # Whether a session is offered is checked once, under the service's lock (test_views).
    with django_assert_num_queries(0):
        form = PreEventsForm({"pre_events": [str(elsewhere.pk), "", str(elsewhere.pk)]}, conference=conference)
        assert form.is_valid()
    assert form.cleaned_data["pre_events"] == [elsewhere.pk]


@pytest.mark.parametrize("sent", [["abc"], ["-3"], ["0"], ["1.5"], ["٣"], ["9" * 19], ["9" * 5000]])
def test_pre_events_that_name_no_session_id_are_refused_by_the_form(sent):
    form = PreEventsForm({"pre_events": sent}, conference=ConferenceFactory())

    assert not form.is_valid()
    assert form.errors["pre_events"] == ["Choose pre-events from the list; one of those sent is not offered here."]


def test_ticked_sessions_stay_ticked_when_the_form_comes_back_with_errors():
    conference = ConferenceFactory()
    first = PreEventFactory(conference=conference)
    second = PreEventFactory(conference=conference, start=first.end)

    form = RegistrationForm(
        registration_data(conference, given_name="", pre_events=[str(second.pk)]), conference=conference
    )

    assert not form.is_valid()
    assert [option["checked"] for option in form.session_options()] == [False, True]
