from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.utils.translation import get_language

from outbox.emails import compose, queue_email


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit: bool = True):
        """A new account speaks the language its owner signed up in, until they choose another."""
        user.language = get_language() or settings.LANGUAGE_CODE
        return super().save_user(request, user, form, commit)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Account emails (verification, password reset ...) go through the outbox like all
        others: allauth's own texts, translated, in the language of the request, in our layout."""
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request), **context},
        )
        body_text, body_html = compose(heading=message.subject, content=message.body)
        queue_email(
            to=email,
            subject=message.subject,
            body_text=body_text,
            body_html=body_html,
            kind="account_" + template_prefix.rsplit("/", 1)[-1],
            language=get_language() or settings.LANGUAGE_CODE,
        )
