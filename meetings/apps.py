from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Bilateral meetings")

    def ready(self) -> None:
        from accounts import personal_data
        from agenda import events, navigation
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
        # A cancelled registration cancels the person's requests and meetings.
        events.subscribe(events.REGISTRATION_CANCELLED, services.leave_with_registration)
        # Logged-in visitors find the meetings pages in the conference's navigation.
        navigation.register(
            "meetings", label=_("Meetings"), url_name="meetings:home", offered=selectors.has_open_blocks
        )
