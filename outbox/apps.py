from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Outbox")

    def ready(self) -> None:
        # Web processes hand emails to the delivery task by its name (outbox.emails); the task
        # must be in Celery's registry there too, not only in workers, which discover it.
        from outbox import tasks  # noqa: F401
