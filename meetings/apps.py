from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Bilateral meetings")

    def ready(self) -> None:
        from accounts import personal_data
        from meetings import selectors, services
        from meetings.calendar import programme_entries
        from registration import programme

        # A person's bilateral meetings are on their My programme page and in its calendar feed.
        programme.register("meetings", label=_("Bilateral meeting"), entries=programme_entries)
        # Own-data download and account deletion take the profiles and requests too.
        personal_data.register(
            "meetings",
            export=selectors.participant_data,
            erase=services.erase_participant,
            erase_registrations=services.erase_registration_profiles,
        )
