from celery import shared_task

from registration import emails


@shared_task(name="registration.deliver_email", bind=True, acks_late=True, max_retries=emails.MAX_ATTEMPTS)
def deliver_email(self, *, email_id: int) -> None:
    """Deliver one outgoing email; transient SMTP failures retry with a growing delay."""
    try:
        emails.send_email(email_id)
    except emails.TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=min(15 * 2**self.request.retries, 1800)) from exc


@shared_task(name="registration.requeue_stale_emails", acks_late=True)
def requeue_stale_emails() -> int:
    """Every minute: hand queued emails the workers never received back to them."""
    return emails.requeue_stale_emails()
