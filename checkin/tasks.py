"""Celery tasks of the check-in: thin, named, id-only and idempotent; the work is in
checkin.services."""

from celery import shared_task

from checkin import services


@shared_task(name=services.BADGE_PART_TASK, acks_late=True, ignore_result=True)
def build_badge_part(*, run_id: int, index: int) -> None:
    """Build one part of a badge run; does nothing if the run is gone or the part is built."""
    services.build_badge_part(run_id, index)
