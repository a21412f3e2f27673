from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = _("Agenda")

    def ready(self) -> None:
        from accounts import destinations, personal_data
        from agenda import caching, stars

        # Stars are a person's own: in their download, and gone with their account.
        personal_data.register("stars", export=stars.stars_data, erase=stars.erase_stars)
        # The login and sign-up pages name the conference the visitor came from.
        destinations.find_with(caching.conference_at)
