"""The attendee's forms. They check what a person typed; the services check it against the rows, under lock."""

import hashlib

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from agenda.models import Conference, Session
from registration import selectors
from registration.models import Registration
from registration.validators import validate_name, validate_plain_text


def privacy_digest(statement: str) -> str:
    """A fingerprint of the statement shown, so that the one agreed to is the one stored."""
    return hashlib.sha256(statement.encode()).hexdigest()


class DetailsForm(forms.ModelForm):
    """Who the attendee is: asked once, then filled in from their last registration."""

    class Meta:
        model = Registration
        fields = Registration.DETAIL_FIELDS
        widgets = {
            "given_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "family_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "organisation": forms.TextInput(attrs={"autocomplete": "organization"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
            "dietary_requirements": forms.Textarea(attrs={"rows": 2}),
            "accessibility_needs": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "dietary_requirements": _("For example vegetarian, halal, or a nut allergy. Leave empty if none."),
            "accessibility_needs": _("Anything that helps you take part, such as step-free access or an interpreter."),
            "photo_opt_out": _("Tick if you do not want to appear in photos or in the live stream."),
            "language": _("The language of the emails we send you."),
        }
        error_messages = {
            "given_name": {"required": _("Enter your given name.")},
            "family_name": {"required": _("Enter your family name.")},
            "organisation": {"required": _("Enter the organisation you work for.")},
            "organisation_type": {
                "required": _("Choose the type of your organisation."),
                "invalid_choice": _("Choose one of the organisation types in the list."),
            },
            "country": {
                "required": _("Choose your country."),
                "invalid_choice": _("Choose a country from the list."),
            },
            "language": {"invalid_choice": _("Choose one of the languages in the list.")},
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].widget.attrs["autocomplete"] = "country"
        # Django's messages speak of "this value"; say which field and how far over it is.
        for field in self.fields.values():
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = _(
                    "Shorten this to at most %(limit_value)d characters (it has %(show_value)d)."
                )


class SessionChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "invalid_choice": _("Choose pre-events from the list; one of those sent is not offered here."),
        "invalid_pk_value": _("Choose pre-events from the list; one of those sent is not offered here."),
        "invalid_list": _("Choose pre-events from the list."),
    }


def pre_events_field() -> SessionChoiceField:
    return SessionChoiceField(queryset=Session.objects.none(), required=False, label=_("Pre-events and workshops"))


class SessionOptionsMixin:
    """Offers the conference's sessions with sign-up, each with its seats left; the service refuses
    overlaps under lock, and a full session means a place in its queue."""

    def offer_sessions(self, conference: Conference) -> None:
        self.conference = conference
        self.fields["pre_events"].queryset = selectors.bookable_sessions(conference)

    @cached_property
    def sessions(self) -> list[Session]:
        """Read only when the page shows them, not when a submitted form is accepted."""
        return list(self.fields["pre_events"].queryset)

    def session_options(self) -> list[dict]:
        """Each session with what the page says about it, and whether it is ticked."""
        field = self["pre_events"]
        ticked = {str(pk) for pk in field.value() or []}
        return [
            {
                "session": session,
                "id": f"{field.auto_id}_{index}",
                "checked": str(session.pk) in ticked,
                "seats_left": selectors.seats_left(session),
            }
            for index, session in enumerate(self.sessions)
        ]


class PreEventsForm(SessionOptionsMixin, forms.Form):
    pre_events = pre_events_field()

    def __init__(self, *args, conference: Conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offer_sessions(conference)


class RegistrationForm(SessionOptionsMixin, DetailsForm):
    """Details, pre-events and the privacy agreement, in one form."""

    pre_events = pre_events_field()
    privacy_agreed = forms.BooleanField(
        label=_("I have read the privacy statement above and agree to it."),
        error_messages={"required": _("Agree to the privacy statement to register.")},
    )
    privacy_digest = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, conference: Conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offer_sessions(conference)
        self.fields["privacy_digest"].initial = privacy_digest(conference.privacy_statement)

    def clean(self) -> dict:
        cleaned_data = super().clean()
        # The hidden fingerprint has no place on the page; its error belongs beside the agreement.
        if cleaned_data.get("privacy_digest") != privacy_digest(self.conference.privacy_statement):
            self.add_error(
                "privacy_agreed",
                forms.ValidationError(
                    _("The privacy statement has changed since the form was opened; read it again and agree."),
                    code="stale",
                ),
            )
        return cleaned_data

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in Registration.DETAIL_FIELDS}


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


class AccessibilityReportForm(forms.Form):
    """A problem someone met with the site's accessibility, for the organisers to answer."""

    problem = forms.CharField(
        label=_("What is the problem?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What you were trying to do, what happened instead, and the browser and any assistive technology "
            "you use, such as a screen reader or a magnifier."
        ),
        error_messages={"required": _("Describe the problem you met.")},
    )
    page = forms.CharField(
        label=_("Address of the page (optional)"),
        max_length=500,
        required=False,
        validators=[validate_plain_text],
        help_text=_("Where you met the problem, if it was on one page."),
    )
    name = forms.CharField(
        label=_("Your name (optional)"),
        max_length=200,
        required=False,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        help_text=_("We reply to this address, and use it for nothing else."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Enter your email address, so that we can reply."),
            "invalid": _("Enter an email address like name@example.org."),
        },
    )
