"""The attendee's forms. They check what a person typed; the services check it against the rows, under lock."""

import hashlib

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from agenda.models import Conference, Session
from registration import selectors
from registration.exports import Dialect, Personal
from registration.models import CONSENT_TEXTS, Consent, Registration


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


class SessionChoiceField(forms.Field):
    """The ids of the sessions ticked. Whether each is a bookable session of the conference
    is the services' check, made once, under their lock; the form only reads the numbers."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "invalid_choice": _("Choose pre-events from the list; one of those sent is not offered here."),
        "invalid_list": _("Choose pre-events from the list."),
    }
    # The largest primary key PostgreSQL's bigint holds: a longer number names no session.
    LARGEST_ID = 2**63 - 1

    def to_python(self, value) -> list[int]:
        if value in self.empty_values:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError(self.error_messages["invalid_list"], code="invalid_list")
        # Where the choices all run at the same time they are radio buttons, and "none" sends "".
        chosen = [str(pk) for pk in value if pk != ""]
        if not all(pk.isascii() and pk.isdigit() and len(pk) <= 19 and 0 < int(pk) <= self.LARGEST_ID for pk in chosen):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return sorted({int(pk) for pk in chosen})


def pre_events_field() -> SessionChoiceField:
    return SessionChoiceField(required=False, label=_("Pre-events and workshops"))


class SessionOptionsMixin:
    """Offers the conference's sessions with sign-up, each with its seats left; the service refuses
    overlaps under lock, and a full session means a place in its queue."""

    @cached_property
    def sessions(self) -> list[Session]:
        """Read only when the page shows them, not when a submitted form is accepted."""
        return list(selectors.bookable_sessions(self.conference))

    @cached_property
    def overlaps(self) -> dict[int, list[Session]]:
        return selectors.overlapping(self.sessions)

    @property
    def choose_one(self) -> bool:
        """All the sessions run at the same time: the page offers one of them or none."""
        return selectors.only_one_possible(self.overlaps)

    def session_options(self) -> list[dict]:
        """Each session with what the page says about it, whether it is ticked, and (unless
        only one can be chosen anyway) the others it runs alongside, said before submitting."""
        field = self["pre_events"]
        ticked = {str(pk) for pk in field.value() or []}
        choose_one = self.choose_one
        return [
            {
                "session": session,
                "id": f"{field.auto_id}_{index}",
                "checked": str(session.pk) in ticked,
                "seats_left": selectors.seats_left(session),
                "overlap_note": "" if choose_one else overlap_note(self.overlaps[session.pk]),
            }
            for index, session in enumerate(self.sessions)
        ]

    def nothing_chosen(self) -> bool:
        return not any(str(pk) for pk in self["pre_events"].value() or [])


def overlap_note(others: list[Session]) -> str:
    if not others:
        return ""
    return _("Runs at the same time as %(titles)s: you can take only one of them.") % {
        "titles": ", ".join(f"“{other.title}”" for other in others)
    }


class PreEventsForm(SessionOptionsMixin, forms.Form):
    pre_events = pre_events_field()

    def __init__(self, *args, conference: Conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference = conference


class RegistrationForm(SessionOptionsMixin, DetailsForm):
    """Details, pre-events and the privacy agreement, in one form."""

    pre_events = pre_events_field()
    privacy_agreed = forms.BooleanField(
        label=_("I have read the privacy statement above and agree to it."),
        error_messages={"required": _("Agree to the privacy statement to register.")},
    )
    privacy_digest = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Each optional purpose asked apart, never ticked for the attendee; withdrawn on their page.
    consent_photos = forms.BooleanField(label=CONSENT_TEXTS[Consent.Purpose.PHOTOS], required=False)
    consent_messages = forms.BooleanField(
        label=CONSENT_TEXTS[Consent.Purpose.MESSAGES],
        required=False,
        help_text=_("Without it you still get what you need to take part, such as a room change or what to bring."),
    )

    def __init__(self, *args, conference: Conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference = conference
        self.statement = selectors.privacy_statement(conference)
        self.fields["privacy_digest"].initial = privacy_digest(self.statement)

    def clean(self) -> dict:
        cleaned_data = super().clean()
        # The hidden fingerprint has no place on the page; its error belongs beside the agreement.
        if cleaned_data.get("privacy_digest") != privacy_digest(self.statement):
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

    def consents(self) -> list[str]:
        """The optional purposes ticked."""
        ticked = {Consent.Purpose.PHOTOS: "consent_photos", Consent.Purpose.MESSAGES: "consent_messages"}
        return [purpose for purpose, field in ticked.items() if self.cleaned_data[field]]


# Attendee lists -----------------------------------------------------------------------


class ExportOptionsForm(forms.Form):
    """How to write a list: the spreadsheet dialect and the personal details to leave out."""

    format = forms.ChoiceField(
        label=_("File for"),
        choices=Dialect.choices,
        initial=Dialect.EXCEL,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the file formats listed.")},
    )
    omit = forms.MultipleChoiceField(
        label=_("Leave out"),
        choices=Personal.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Take only the personal details the list is for."),
        error_messages={"invalid_choice": _("“%(value)s” is not a detail that can be left out.")},
    )

    def __init__(self, data=None, *args, **kwargs) -> None:
        # A link without a format means the default one; the form shows it chosen if it
        # comes back with an error elsewhere.
        if data is not None and not data.get("format"):
            data = data.copy()
            data["format"] = Dialect.EXCEL
        super().__init__(data, *args, **kwargs)


class AttendeeExportForm(ExportOptionsForm):
    """The attendee list's filters; every value must belong to the conference."""

    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=Registration.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every status."),
        error_messages={"invalid_choice": _("“%(value)s” is not a registration status.")},
    )
    pre_event = forms.ModelChoiceField(
        label=_("Booked on"),
        queryset=Session.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("Any or none"),
        error_messages={"invalid_choice": _("Choose one of this conference’s pre-events.")},
    )
    country = forms.MultipleChoiceField(
        label=_("Country"),
        choices=countries,
        required=False,
        help_text=_("None selected: every country. Hold Ctrl (⌘ on a Mac) to select several."),
        error_messages={"invalid_choice": _("“%(value)s” is not a country code.")},
    )
    organisation_type = forms.MultipleChoiceField(
        label=_("Organisation type"),
        choices=Registration.OrganisationType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every type."),
        error_messages={"invalid_choice": _("“%(value)s” is not an organisation type.")},
    )
    registered_from = forms.DateField(
        label=_("Registered from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    registered_to = forms.DateField(
        label=_("Registered until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )

    field_order = ["status", "pre_event", "country", "organisation_type", "registered_from", "registered_to"]

    def __init__(self, *args, conference: Conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference = conference
        self.fields["pre_event"].queryset = (
            Session.objects.with_sign_up().filter(conference=conference).order_by("start", "id")
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("registered_from"), cleaned.get("registered_to")
        if start and end and end < start:
            self.add_error("registered_to", _("The end of the period is before its start."))
        return cleaned
