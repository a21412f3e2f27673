from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from conference.validators import validate_plain_text
from meetings.models import MeetingBlock, Profile, Sector, Slot, Theme
from registration.models import Registration


def slot_label(slot: Slot, conference) -> str:
    local = timezone.localtime(slot.start, conference.tz)
    end = timezone.localtime(slot.end, conference.tz)
    return (
        f"{formats.date_format(local, 'WEEKDAY_MONTH_DAY_FORMAT')}, {formats.time_format(local, 'TIME_FORMAT')}"
        f"–{formats.time_format(end, 'TIME_FORMAT')} ({conference.timezone})"
    )


class ProfileForm(forms.ModelForm):
    """What a participant tells others about their organisation; saving it opts them in."""

    consent = forms.BooleanField(
        label=_("List me in the meetings directory and let participants ask me for meetings."),
        help_text=_("Other participants will see your name, organisation, country and this profile."),
        error_messages={"required": _("Tick the box to take part, or leave the page.")},
    )

    class Meta:
        model = Profile
        fields = ["offer", "seek", "sectors", "themes", "languages"]
        widgets = {
            "offer": forms.Textarea(attrs={"rows": 3}),
            "seek": forms.Textarea(attrs={"rows": 3}),
            "sectors": forms.CheckboxSelectMultiple,
            "themes": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "offer": _("Expertise, technology, services or partnerships you bring."),
            "seek": _("The partners, projects or know-how you are looking for."),
            "languages": _("For example English, Español, Polski."),
        }

    def __init__(self, *args, conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sectors"].queryset = Sector.objects.filter(conference=conference)
        self.fields["themes"].queryset = Theme.objects.filter(conference=conference)
        self.fields["sectors"].error_messages["invalid_choice"] = _("Choose sectors from the list.")
        self.fields["themes"].error_messages["invalid_choice"] = _("Choose themes from the list.")


class DirectoryForm(forms.Form):
    """The directory's search and filters; all optional, and wrong values are simply ignored."""

    q = forms.CharField(
        label=_("Search"), required=False, max_length=100, help_text=_("Name, organisation, offer or need.")
    )
    sector = forms.ModelChoiceField(
        label=_("Sector"), queryset=Sector.objects.none(), required=False, empty_label=_("Any")
    )
    theme = forms.ModelChoiceField(
        label=_("Theme"), queryset=Theme.objects.none(), required=False, empty_label=_("Any")
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    organisation_type = forms.ChoiceField(label=_("Organisation type"), required=False)

    def __init__(self, *args, conference, countries: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sector"].queryset = Sector.objects.filter(conference=conference)
        self.fields["theme"].queryset = Theme.objects.filter(conference=conference)
        self.fields["country"].choices = [("", _("Any")), *countries]
        self.fields["organisation_type"].choices = [("", _("Any")), *Registration.OrganisationType.choices]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "text": data["q"],
            "sector": data["sector"],
            "theme": data["theme"],
            "country": data["country"],
            "organisation_type": data["organisation_type"],
        }


class BlockSlotChoiceField(forms.ModelMultipleChoiceField):
    def __init__(self, *args, conference, **kwargs) -> None:
        self.conference = conference
        super().__init__(*args, **kwargs)

    def label_from_instance(self, slot: Slot) -> str:
        return slot_label(slot, self.conference)


class RequestForm(forms.Form):
    block = forms.ModelChoiceField(
        label=_("Meeting session"),
        queryset=MeetingBlock.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the meeting session."),
            "invalid_choice": _("Choose one of the meeting sessions listed."),
        },
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you would like to meet (up to 500 characters)."),
    )

    def __init__(self, *args, conference, blocks, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["block"].queryset = blocks
        self.fields["slots"] = BlockSlotChoiceField(
            label=_("Times you propose (optional)"),
            queryset=Slot.objects.filter(block__in=blocks, is_break=False).order_by("start"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            conference=conference,
            error_messages={"invalid_choice": _("Choose times from the list.")},
        )
        if len(blocks) == 1:
            self.fields["block"].initial = blocks[0].pk
        self.fields["message"].validators.append(validate_plain_text)

    def clean(self):
        data = super().clean()
        block = data.get("block")
        if block is not None and any(slot.block_id != block.pk for slot in data.get("slots", [])):
            self.add_error("slots", _("Choose times of the meeting session you chose."))
        return data


class SlotChoiceField(forms.ChoiceField):
    """Offers the times free now, but takes any time of the block: one taken meanwhile is
    the service's to refuse (SlotTaken, with the times still free), not a form error."""

    def __init__(self, *args, allowed: set[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = allowed

    def valid_value(self, value) -> bool:
        return str(value) in self.allowed or super().valid_value(value)


class AcceptForm(forms.Form):
    def __init__(self, *args, slots, block_slot_ids, conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"] = SlotChoiceField(
            label=_("Time of the meeting"),
            widget=forms.RadioSelect,
            choices=[(str(slot.pk), slot_label(slot, conference)) for slot in slots]
            + [("any", _("Any time: let the organisers choose"))],
            allowed={str(pk) for pk in block_slot_ids},
            error_messages={
                "required": _("Choose a time, or leave it to the organisers."),
                "invalid_choice": _("Choose one of the times listed."),
            },
        )

    def slot_id(self) -> int | None:
        value = self.cleaned_data["slot"]
        return None if value == "any" else int(value)


def reason_field(*, label, help_text) -> forms.CharField:
    """An optional reason, told to the person it answers: text as people type it."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
        validators=[validate_plain_text],
    )


class DeclineForm(forms.Form):
    reason = reason_field(label=_("Reason (optional)"), help_text=_("Sent to the person who asked."))


class ReviewForm(forms.Form):
    """An organiser's answer to one profile waiting for approval."""

    APPROVE, REFUSE = "approve", "refuse"

    profile = forms.ModelChoiceField(
        queryset=Profile.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("There is no such profile in this conference's meetings.")},
    )
    decision = forms.ChoiceField(
        choices=[(APPROVE, _("Approve")), (REFUSE, _("Do not approve"))],
        error_messages={"invalid_choice": _("Choose to approve the profile or not.")},
    )
    reason = reason_field(
        label=_("Reason if you do not approve it (optional)"),
        help_text=_("Shown to the participant and sent to them by email."),
    )

    def __init__(self, *args, profiles, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = profiles

    def clean(self) -> dict:
        cleaned_data = super().clean()
        if cleaned_data.get("decision") == self.APPROVE and cleaned_data.get("reason"):
            # An approval says nothing more; a reason typed by mistake must not be lost silently.
            self.add_error(
                "reason",
                _("A reason goes with not approving a profile: clear it to approve, or choose Do not approve."),
            )
        return cleaned_data
