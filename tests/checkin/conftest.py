import pytest

from checkin.selectors import Door
from tests.factories import ConferenceFactory, RegistrationFactory, TeamFactory, VerifiedUserFactory


@pytest.fixture
def conference():
    return ConferenceFactory()


@pytest.fixture
def door(conference):
    return Door(conference.start_date)


@pytest.fixture
def door_staff(conference):
    """A team member who may check people in at this conference (and nothing else)."""
    user = VerifiedUserFactory(email="door@example.org")
    TeamFactory(conferences=[conference], members=[user], can_check_in=True)
    return user


@pytest.fixture
def attendee(conference):
    return RegistrationFactory(
        conference=conference,
        user=VerifiedUserFactory(),
        given_name="Elżbieta",
        family_name="Bieńkowska",
        organisation="Klaster Obróbki Metali",
        dietary_requirements="Vegetarian",
    )
