"""Celery tasks of the outbox: thin, named and idempotent; the work is in outbox.emails."""

from celery import shared_task

from outbox import emails


@shared_task(name=emails.DELIVERY_TASK, acks_late=True, ignore_result=True)
def deliver_emails() -> int:
    """Deliver the queued emails that are due, a batch at a time (outbox.emails.deliver_queued);
    returns how many were sent. Any number may run at once: each claims emails the others
    have not. A transient failure needs no retry of the task: the email is queued again with
    the time of its next attempt, and a task is woken for that time."""
    return emails.deliver_queued()


@shared_task(name="outbox.requeue_stale_emails", acks_late=True, ignore_result=True)
def requeue_stale_emails() -> int:
    """The sweep (beat, every OUTBOX_SWEEP_INTERVAL seconds): hand back to the workers the
    emails the broker lost or a dead worker left; returns how many."""
    return emails.requeue_stale_emails()
