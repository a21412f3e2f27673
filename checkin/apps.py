from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinConfig(AppConfig):
    name = "checkin"
    verbose_name = _("Check-in")

    def ready(self) -> None:
        # Web processes hand badge parts to their task by its name (checkin.services); the task
        # must be in Celery's registry there too, not only in workers, which discover it.
        from checkin import tasks  # noqa: F401
        from checkin.dashboard import figures
        from checkin.exports import CHECK_INS, check_ins_cell
        from registration.dashboard import register_panel
        from registration.exports import register_column

        register_column(CHECK_INS, value=check_ins_cell)
        register_panel("check-in", title=_("Check-in"), render=figures)

        from accounts import personal_data
        from checkin import services
        from checkin.models import CheckIn
        from checkin.services import email_ticket
        from checkin.views import registration_section
        from registration import messaging, tickets

        # The emails that confirm a place carry the ticket's address and QR code; the
        # attendee's page links to the ticket and, after the event, the certificate.
        tickets.provide_with(ticket=email_ticket, section=registration_section)

        # Deleting an account, or erasing a conference's registrations, takes their badges too.
        personal_data.register("badges", erase=services.erase_user_badges, erase_registrations=services.erase_badges)

        # Organisers may write to those who came, or to those who did not.
        messaging.check_in_known_by(lambda: CheckIn.objects.valid().values("registration"))
