import secrets

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.core.internal.ratelimit import get_ip
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from outbox.emails import compose, queue_email

# The longest address mail can carry (RFC 5321 path limit).
EMAIL_MAX_LENGTH = 254


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit: bool = True):
        """A new account speaks the language its owner signed up in, until they choose another."""
        user.language = get_language() or settings.LANGUAGE_CODE
        return super().save_user(request, user, form, commit)

    def clean_email(self, email: str) -> str:
        """An address longer than mail allows (RFC 5321) is refused, never cut to another one."""
        if len(email) > EMAIL_MAX_LENGTH:
            raise ValidationError(
                _("An email address has at most %(limit)d characters; this one has %(length)d.")
                % {"limit": EMAIL_MAX_LENGTH, "length": len(email)},
                code="too_long",
            )
        return super().clean_email(email)

    def send_account_already_exists_mail(self, email: str) -> None:
        """A sign-up with a known address costs what a new one does: a new account's password is
        hashed, so without this the time of the answer would tell which addresses have accounts."""
        make_password(secrets.token_urlsafe())
        super().send_account_already_exists_mail(email)

    def send_confirmation_mail(self, request, emailconfirmation, signup: bool) -> None:
        """No confirmation goes to an address another account has verified: its owner would get
        mail naming a stranger, and the address can never be confirmed for a second account."""
        address = emailconfirmation.email_address
        if (
            EmailAddress.objects.filter(email__iexact=address.email, verified=True)
            .exclude(user_id=address.user_id)
            .exists()
        ):
            return
        super().send_confirmation_mail(request, emailconfirmation, signup)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed logins are counted per address and per client: a stranger guessing from elsewhere
        never locks the owner out on the device they always use (allauth counts per address alone)."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{get_ip(request)}"

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
