"""Celery tasks of registration: thin, named, id-only and idempotent; the work is in
registration.notifications."""

from celery import shared_task

from registration import notifications

# Reminders one task renders before it hands the rest to a fresh task, within the time limit.
REMINDER_BATCH = 500


@shared_task(name="registration.queue_reminders", acks_late=True, ignore_result=True)
def queue_reminders() -> int:
    """Beat, hourly: queue the reminders that are due; returns how many this run queued."""
    queued = notifications.queue_reminders(limit=REMINDER_BATCH)
    if queued == REMINDER_BATCH:
        queue_reminders.delay()  # more are due: carry on in a fresh task
    return queued
