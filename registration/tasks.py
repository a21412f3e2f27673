"""Celery tasks of registration: thin, named, id-only and idempotent; the work is in
registration.notifications, .messaging and .privacy."""

import time

from celery import shared_task

from registration import messaging, notifications, privacy

# Reminders one task renders before it hands the rest to a fresh task, within the time limit.
REMINDER_BATCH = 500
# Registrations one task erases before it hands the rest to a fresh task, within the time limit.
ERASURE_BATCH = 10000


@shared_task(name="registration.queue_reminders", acks_late=True, ignore_result=True)
def queue_reminders() -> int:
    """Beat, hourly: queue the reminders that are due; returns how many this run queued."""
    queued = notifications.queue_reminders(limit=REMINDER_BATCH)
    if queued == REMINDER_BATCH:
        queue_reminders.delay()  # more are due: carry on in a fresh task
    return queued


@shared_task(name=messaging.QUEUE_TASK, acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=330)
def queue_message(*, message_id: int) -> None:
    """Write the outbox rows of a message being sent, batch after batch; a retried or
    repeated run carries on after the last batch that committed, and does nothing once
    the message is sent. Hands the rest to a fresh task before its time limit."""
    deadline = time.monotonic() + 240
    while messaging.queue_batch(message_id):
        if time.monotonic() > deadline:
            queue_message.delay(message_id=message_id)
            return


@shared_task(name="registration.erase_personal_data", acks_late=True, ignore_result=True)
def erase_personal_data() -> int:
    """Beat, hourly: erase the personal data whose retention period is over and warn the
    organisers of what is due within a month (registration.privacy); carries on in a fresh
    task while more is due. Returns how many registrations this run erased."""
    erased = privacy.erase_due(limit=ERASURE_BATCH)
    if erased == ERASURE_BATCH:
        erase_personal_data.delay()
    return erased
