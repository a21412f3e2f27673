from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import get_language

from registration.emails import queue_email


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Account emails (verification, password reset) go through the outbox too."""
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), ""
        )
        queue_email(
            to=email,
            subject=message.subject,
            body_text=message.body,
            body_html=html,
            kind="account_" + template_prefix.rsplit("/", 1)[-1],
            language=get_language() or "en",
        )
