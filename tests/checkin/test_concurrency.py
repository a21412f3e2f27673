"""Two staff scanning one person at the same instant, each on a database connection of
their own: one check-in is recorded, the other scan is told it stands."""

import threading

import pytest
from django.db import connection

from checkin import services
from checkin.models import CheckIn
from checkin.selectors import Door
from tests.factories import RegistrationFactory, TeamFactory, VerifiedUserFactory

SCANNERS = 4


@pytest.mark.django_db(transaction=True)
def test_simultaneous_scans_of_one_ticket_record_one_check_in():
    registration = RegistrationFactory()
    conference = registration.conference
    staff = VerifiedUserFactory.create_batch(SCANNERS)
    TeamFactory(conferences=[conference], members=staff, can_check_in=True)
    token = services.ensure_ticket(registration).token
    door = Door(conference.start_date)
    start = threading.Barrier(SCANNERS)
    outcomes: list[str] = []

    def scan(user) -> None:
        try:
            start.wait()
            outcomes.append(services.scan(conference, door=door, actor=user, token=token).code)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(user,)) for user in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_checked_in"] * (SCANNERS - 1) + ["checked_in"]
    assert CheckIn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_offline_batch_sent_from_two_places_at_once_records_each_scan_once():
    registration = RegistrationFactory()
    conference = registration.conference
    staff = VerifiedUserFactory()
    TeamFactory(conferences=[conference], members=[staff], can_check_in=True)
    token = services.ensure_ticket(registration).token
    batch = [{"nonce": "same-nonce", "token": token, "door": Door(conference.start_date).key}]
    start = threading.Barrier(2)
    results: list[dict] = []

    def send() -> None:
        try:
            start.wait()
            results.extend(services.sync_offline_scans(conference, batch, actor=staff))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(result["replayed"] for result in results) == [False, True]
    assert {result["code"] for result in results} == {"checked_in"}
    assert CheckIn.objects.count() == 1
