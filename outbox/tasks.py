"""Celery tasks of the outbox: thin, named, id-only and idempotent; the work is in outbox.emails."""

from celery import shared_task

from outbox import emails


@shared_task(name=emails.DELIVERY_TASK, bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver_email(self, *, email_id: int) -> None:
    """Deliver one outgoing email; does nothing if it is gone, sent or being sent.

    A transient failure is retried after the growing delay that send_email recorded on the
    row (which also counts the attempts and gives up); should that retry be lost, the
    sweep hands the email over again.
    """
    try:
        emails.send_email(email_id)
    except emails.TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in) from exc


@shared_task(name="outbox.requeue_stale_emails", acks_late=True, ignore_result=True)
def requeue_stale_emails() -> int:
    """The sweep (beat, every OUTBOX_SWEEP_INTERVAL seconds): hand back to the workers the
    emails the broker lost or a dead worker left; returns how many."""
    return emails.requeue_stale_emails()
