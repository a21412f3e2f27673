"""Celery tasks of bilateral meetings: thin and idempotent; the work is in meetings.services."""

from celery import shared_task

from meetings import services


@shared_task(name="meetings.expire_requests", acks_late=True, ignore_result=True)
def expire_requests() -> int:
    """Beat, every few minutes: expire the requests left unanswered past their time and tell
    both sides; returns how many. Safe to run twice at once (the service locks and checks
    each request again)."""
    return services.expire_requests()
