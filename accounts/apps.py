from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and teams")

    def ready(self) -> None:
        from accounts.adapter import ACCOUNT_KINDS, render_account_email
        from outbox import rendering

        rendering.register(ACCOUNT_KINDS, render_account_email, confidential=True)
