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
    ["Elźbieta", "Bieńkowska", "O’Brien", "Jean-Luc", "Dr. Smith", "Ἀθηνᾶ", "Юлия", "Zoë", "Bien\u0301kowska"],
)
def test_names_in_any_script_with_accents_and_punctuation_are_accepted(name):
    form = DetailsForm(attendee_details(given_name=name, family_name=name))

    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    "name",
    ["<b>Ela</b>", "Ela🎉", "Ela\u200b", "Ela\u202e", "Ela1", "---", "Ela\nNowak", "Ela;DROP TABLE"],
)
def test_names_with_markup_emoji_controls_or_digits_are_refused(name):
    form = DetailsForm(attendee_details(given_name=name))

    assert not form.is_valid()
    assert form.errors["given_name"]


@pytest.mark.parametrize("value", ["AT&T Cluster (Europe) GmbH & Co. KG", "Cluster 55 – Łódź", "Ü-Bau/Forschung"])
def test_organisation_names_may_use_digits_and_punctuation(value):
    assert DetailsForm(attendee_details(organisation=value)).is_valid()


def test_notes_may_span_lines_but_not_carry_markup():
    multi_line = DetailsForm(attendee_details(accessibility_needs="Step-free access\r\nQuiet room"))
    markup = DetailsForm(attendee_details(dietary_requirements="<script>x</script>"))

    assert multi_line.is_valid()
    assert markup.errors["dietary_requirements"] == ["Leave out the characters < and >."]


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
    elsewhere = PreEventFactory()
    BookingFactory(session=workshop, registration__conference=conference)

    form = PreEventsForm({"pre_events": [str(elsewhere.pk)]}, conference=conference)

    assert [option["session"] for option in form.session_options()] == [workshop]
    assert form.session_options()[0]["seats_left"] == 1
    assert not form.is_valid()
    assert "pre_events" in form.errors


def test_ticked_sessions_stay_ticked_when_the_form_comes_back_with_errors():
    conference = ConferenceFactory()
    first = PreEventFactory(conference=conference)
    second = PreEventFactory(conference=conference, start=first.end)

    form = RegistrationForm(
        registration_data(conference, given_name="", pre_events=[str(second.pk)]), conference=conference
    )

    assert not form.is_valid()
    assert [option["checked"] for option in form.session_options()] == [False, True]
