from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = _("Voting and questions")

    def ready(self) -> None:
        from registration.dashboard import register_panel
        from voting.dashboard import results

        register_panel("voting", title=_("Voting results"), render=results)
