from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationConfig(AppConfig):
    name = "registration"
    verbose_name = _("Registration")

    def ready(self) -> None:
        from agenda.signals import session_changed
        from registration.notifications import notify_session_change

        # The agenda announces moved and cancelled sessions without knowing who booked them.
        session_changed.connect(notify_session_change, dispatch_uid="registration.notify_session_change")
