import datetime
import secrets
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.core import context as allauth_context
from allauth.core.internal.ratelimit import get_ip
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts import destinations
from outbox.emails import compose, queue_rendered_email
from outbox.models import OutgoingEmail
from outbox.rendering import NothingToSend, RenderedEmail

# allauth's emails (its templates account/email/<name>_subject.txt), as outbox kinds
# "account_<name>". Each is written when it is sent (render_account_email) and is
# confidential: an account email's body is never stored nor shown in the admin.
ACCOUNT_EMAILS = (
    "account_already_exists",
    "email_changed",
    "email_confirm",
    "email_confirmation",
    "email_confirmation_signup",
    "email_deleted",
    "password_changed",
    "password_reset",
    "password_reset_key",
    "password_set",
    "unknown_account",
)
ACCOUNT_KINDS = tuple(f"account_{name}" for name in ACCOUNT_EMAILS)
# Context values that give access to an account: never stored. The two links this site
# sends are made anew at send time; a code (login or reset by code, switched off here)
# cannot be, and is refused rather than stored.
SECRETS = frozenset({"key", "code", "activate_url", "uid"})

# The longest address mail can carry (RFC 5321 path limit).
EMAIL_MAX_LENGTH = 254


class AccountAdapter(DefaultAccountAdapter):
    # allauth's messages that its forms show, in the site's voice: what happened, what to do.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "account_inactive": gettext_lazy("This account is closed."),
        "email_password_mismatch": gettext_lazy(
            "That email address and password do not match. Check both and try again."
        ),
        "email_taken": gettext_lazy("An account already has this email address: log in with it."),
        "enter_current_password": gettext_lazy("Enter your current password."),
        "incorrect_password": gettext_lazy("That is not your current password."),
        "invalid_password_reset": gettext_lazy("This link no longer works: ask for a new one."),
        "too_many_login_attempts": gettext_lazy(
            "Too many failed attempts to log in. Wait a few minutes, then try again."
        ),
        "unknown_email": gettext_lazy("No account has this email address."),
        "rate_limited": gettext_lazy("Too many requests in a short time. Wait a minute, then try again."),
    }

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
        # Stores which address to verify, not the link: render_account_email makes a fresh one,
        # which returns where the visitor was going, on whichever device it is opened.
        name = "email_confirmation_signup" if signup else "email_confirmation"
        _queue(name, address.email, {"user_id": address.user_id, "email_address_id": address.pk}, request)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed logins are counted per address and per client: a stranger guessing from elsewhere
        never locks the owner out on the device they always use (allauth counts per address alone)."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{get_ip(request)}"

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        """Stores who asked, not the link: render_account_email makes a fresh one."""
        _queue("password_reset_key", email, {"user_id": user.pk}, context.get("request"))

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Account emails (verification, password reset ...) go through the outbox like all
        others: allauth's own texts, translated, in the language of the request, in our
        layout, written when they are sent from the context's plain values."""
        secrets = SECRETS & context.keys()
        if secrets:
            raise ValueError(f"An account email with {', '.join(sorted(secrets))} cannot be stored.")
        stored = {"datetimes": []}
        for name, value in context.items():
            if name == "user":
                stored["user_id"] = value.pk
            elif isinstance(value, datetime.datetime):
                stored[name] = value.isoformat()
                stored["datetimes"].append(name)
            elif isinstance(value, (str, int, float, bool, type(None))):
                stored[name] = value
            elif name != "request":
                stored[name] = str(value)
        _queue(template_prefix.rsplit("/", 1)[-1], email, stored, self.request)


def _queue(name: str, email: str, context: dict, request=None) -> None:
    """`request`: the one that asked, whose `next` (accounts.destinations) the email keeps, to
    name the conference the visitor came from and to lead back there."""
    going = destinations.next_path(request)
    if going:
        context = {**context, "next": going}
    queue_rendered_email(
        to=email, kind=f"account_{name}", context=context, language=get_language() or settings.LANGUAGE_CODE
    )


def render_account_email(email: OutgoingEmail) -> RenderedEmail:
    """An allauth email, written at send time in our layout: the password-reset link and the
    address-verification link are made here, from the account's current state (so a link
    is valid for its full time from sending, and one stored nowhere)."""
    name = email.kind.removeprefix("account_")
    context = {key: value for key, value in email.context.items() if key not in {"datetimes", "user_id"}}
    for key in email.context.get("datetimes", []):
        context[key] = datetime.datetime.fromisoformat(email.context[key])
    if "user_id" in email.context:
        user = get_user_model().objects.filter(pk=email.context["user_id"]).first()
        if user is None:
            raise NothingToSend("the account was deleted.")
        context["user"] = user
    if name == "password_reset_key":
        key = f"{user_pk_to_url_str(user)}-{allauth_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)}"
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        context["password_reset_url"] = settings.SITE_URL + path.replace("UID-KEY", quote(key))
    elif name in {"email_confirmation", "email_confirmation_signup"}:
        address = EmailAddress.objects.filter(pk=email.context["email_address_id"]).first()
        if address is None:
            raise NothingToSend("the address was removed from the account.")
        confirmation = EmailConfirmationHMAC(address)
        context["activate_url"] = settings.SITE_URL + reverse("account_confirm_email", args=[confirmation.key])
        if email.context.get("next"):
            context["activate_url"] += f"?{destinations.REDIRECT_FIELD}={quote(email.context['next'])}"
    # Named after the conference the visitor came from, in its words and with its footer.
    conference = destinations.conference_of(email.context.get("next", ""))
    context["conference"] = conference
    host = urlsplit(settings.SITE_URL).netloc
    site = SimpleNamespace(domain=host, name=host)  # what allauth's templates read of a site
    # allauth's render_mail reads the request only through its context, which has none here.
    with allauth_context.request_context(None):
        message = get_adapter().render_mail(
            f"account/email/{name}", email.to, {"email": email.to, "current_site": site, **context}
        )
    body_text, body_html = compose(heading=message.subject, content=message.body, conference=conference)
    return RenderedEmail(subject=message.subject, body_text=body_text, body_html=body_html)
