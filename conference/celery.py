"""The Celery application: broker and result backend come from REDIS_URL via settings."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conference.settings")

app = Celery("conference")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(sender=None, **kwargs) -> None:
    """Between two tasks, what Django does between two requests: close a connection past
    CONN_MAX_AGE or left broken, and health-check the others before their next use (see
    CELERY_DB_REUSE_MAX). A task run eagerly belongs to the request that runs it."""
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()
