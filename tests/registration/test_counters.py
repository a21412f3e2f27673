"""The conference row's registration counters, kept by PostgreSQL per statement
(registration migration 0007): right after bulk statements, and untouched by changes that
move no counter."""

import pytest
from django.db import connection

from agenda.models import Conference
from registration.models import Registration
from tests.factories import ConferenceFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status


def counters(conference: Conference) -> tuple[int, int, int]:
    return Conference.objects.values_list(
        "last_registration_number", "confirmed_registrations", "waiting_registrations"
    ).get(pk=conference.pk)


def real_counts(conference: Conference) -> tuple[int, int, int]:
    registrations = Registration.objects.filter(conference=conference)
    return (
        max(registrations.values_list("number", flat=True), default=0),
        registrations.filter(status=Status.CONFIRMED).count(),
        registrations.filter(status=Status.WAITLISTED).count(),
    )


def row_version(conference: Conference) -> str:
    """Where the conference row's current version lies: an UPDATE, even to the same values, moves it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ctid::text FROM agenda_conference WHERE id = %s", [conference.pk])
        return cursor.fetchone()[0]


def conference_rows_updated() -> int:
    """Rows of agenda_conference updated so far in this transaction (PostgreSQL's statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_updated('agenda_conference'::regclass)")
        return cursor.fetchone()[0]


def test_bulk_statements_move_the_counters_by_what_they_changed_in_each_conference():
    conference, other = ConferenceFactory(), ConferenceFactory()
    built = [
        RegistrationFactory.build(
            conference=[conference, other][number % 2],
            number=number,
            user=None,
            status=[Status.CONFIRMED, Status.WAITLISTED, Status.CANCELLED][number % 3],
        )
        for number in range(1, 601)
    ]

    updated = conference_rows_updated()
    Registration.objects.bulk_create(built)  # one INSERT of 600 rows
    # Once per conference the statement touched, not once per registration.
    assert conference_rows_updated() - updated == 2
    assert counters(conference) == real_counts(conference) == (600, 100, 100)
    assert counters(other) == real_counts(other) == (599, 100, 100)

    Registration.objects.filter(conference=conference, status=Status.WAITLISTED).update(status=Status.CONFIRMED)
    Registration.objects.filter(conference=other, number__gt=500).delete()
    Registration.objects.filter(conference=other, number__lte=30).update(conference=conference)

    # Places and waiting follow every change; the last number given never goes back, so a
    # number is never given twice.
    assert counters(conference) == real_counts(conference)
    assert counters(other)[1:] == real_counts(other)[1:]
    assert counters(other)[0] == 599 > real_counts(other)[0]


def test_a_change_that_moves_no_counter_leaves_the_conference_row_alone():
    conference = ConferenceFactory()
    RegistrationFactory.create_batch(3, conference=conference)
    before = row_version(conference)

    Registration.objects.filter(conference=conference).update(job_title="Cluster manager", given_name="Elżbieta")

    assert row_version(conference) == before
    assert counters(conference) == real_counts(conference)


def test_a_save_of_the_conference_with_old_counters_keeps_the_real_ones():
    conference = ConferenceFactory()
    stale = Conference.objects.get(pk=conference.pk)
    RegistrationFactory.create_batch(4, conference=conference)

    stale.name = "GROW your REGIOn 2027"
    stale.save()

    assert counters(conference) == real_counts(conference) == (4, 4, 0)
