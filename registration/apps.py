from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationConfig(AppConfig):
    name = "registration"
    verbose_name = _("Registration")

    def ready(self) -> None:
        from accounts import personal_data
        from agenda import events, seats
        from outbox import rendering
        from registration import notifications, selectors, services, tasks  # noqa: F401

        # The emails to attendees are written when they are sent.
        rendering.register(notifications.KINDS, notifications.render_email)

        # Deleting an account erases its registrations, and so does the end of the retention
        # period (registration.privacy); the own-data download lists them.
        personal_data.register(
            "registrations",
            export=selectors.registrations_data,
            erase=services.erase_registrations,
            erase_registrations=services.erase_registration_data,
        )
        # The programme pages show the seats left that registration counts.
        seats.count_with(selectors.seats_left_by_session)
        # The programme's changes that reach attendees: more places or seats go to those
        # waiting, in order (and emails them); a moved or cancelled session emails those booked.
        events.subscribe(events.CAPACITY_RAISED, services.promote_waitlist)
        events.subscribe(events.SESSION_CHANGED, notifications.notify_session_change)
