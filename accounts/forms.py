from allauth.account import forms as allauth_forms
from allauth.account.models import EmailAddress
from django import forms
from django.utils.translation import gettext_lazy as _


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password to delete your account.")},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password; enter the one you log in with."), code="wrong")
        return password


# allauth's labels are Title Case and lean on placeholders (its own pages hide the labels);
# ours show them, in the site's words.
class SiteLabels:
    labels: dict = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.label = self.labels.get(name, field.label)
            field.widget.attrs.pop("placeholder", None)


class ResetPasswordForm(SiteLabels, allauth_forms.ResetPasswordForm):
    """A reset link goes only to an address its account has verified: an address added by
    mistake (a typo, someone else's) never lets its owner take the account over."""

    labels = {"email": _("Email address")}

    def clean_email(self) -> str:
        email = super().clean_email()
        verified = set(
            EmailAddress.objects.filter(email__iexact=email, verified=True).values_list("user_id", flat=True)
        )
        self.users = [user for user in self.users if user.pk in verified]
        return email


class LoginForm(SiteLabels, allauth_forms.LoginForm):
    labels = {"login": _("Email address"), "remember": _("Keep me logged in on this device")}


class SignupForm(SiteLabels, allauth_forms.SignupForm):
    labels = {"email": _("Email address"), "password2": _("Password again")}


class ResetPasswordKeyForm(SiteLabels, allauth_forms.ResetPasswordKeyForm):
    labels = {"password1": _("New password"), "password2": _("New password again")}


class ChangePasswordForm(SiteLabels, allauth_forms.ChangePasswordForm):
    labels = {
        "oldpassword": _("Current password"),
        "password1": _("New password"),
        "password2": _("New password again"),
    }
