import datetime as dt

import pytest
from celery import current_app
from django.conf import settings
from django.utils import timezone

from meetings import services, tasks
from meetings.models import MeetingRequest

pytestmark = pytest.mark.django_db


def test_expire_requests_task_expires_what_is_due_and_is_idempotent(block, ela, marcel):
    meeting_request = services.send_request(ela, block=block, recipient=marcel)
    MeetingRequest.objects.filter(pk=meeting_request.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert tasks.expire_requests() == 1
    assert tasks.expire_requests() == 0
    meeting_request.refresh_from_db()
    assert meeting_request.status == MeetingRequest.Status.EXPIRED


def test_beat_runs_the_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["expire-meeting-requests"]

    assert entry["task"] == tasks.expire_requests.name
    assert entry["task"] in current_app.tasks
    assert entry["schedule"] <= dt.timedelta(minutes=15)
