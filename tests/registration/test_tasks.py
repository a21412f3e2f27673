import datetime as dt

import pytest
from django.utils import timezone

from outbox.models import OutgoingEmail
from registration import tasks
from tests.factories import ConferenceFactory, RegistrationFactory


@pytest.mark.django_db
def test_queue_reminders_continues_in_a_fresh_task_while_more_are_due(monkeypatch, broker_queue):
    monkeypatch.setattr(tasks, "REMINDER_BATCH", 2)
    start = timezone.localdate() + dt.timedelta(days=1)
    conference = ConferenceFactory(timezone="UTC", start_date=start, end_date=start, registration_closes=None)
    RegistrationFactory.create_batch(3, conference=conference)

    assert tasks.queue_reminders.apply().get() == 2
    assert broker_queue() == [("registration.queue_reminders", None)]

    assert tasks.queue_reminders.apply().get() == 1
    assert broker_queue() == [("registration.queue_reminders", None)]  # no third run
    assert OutgoingEmail.objects.filter(kind="reminder").count() == 3
