from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from agenda.models import Session


class IntegerListField(forms.Field):
    """Repeated query parameters that are whole numbers (?track=3&track=7)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("“%(value)s” is not a number.")}

    def to_python(self, value) -> list[int]:
        numbers = set()
        for item in value or []:
            try:
                numbers.add(int(item))
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": item}
                ) from None
        return sorted(numbers)


@dataclass(frozen=True)
class Filters:
    """Kinds and tracks to show; empty means all."""

    kinds: tuple[str, ...] = ()
    tracks: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.kinds or self.tracks)

    def match(self, session: Session) -> bool:
        return (not self.kinds or session.kind in self.kinds) and (not self.tracks or session.track_id in self.tracks)

    @property
    def params(self) -> list[tuple[str, str]]:
        """As query parameters, in a stable order: for links and cache keys."""
        return [("kind", kind) for kind in self.kinds] + [("track", str(track)) for track in self.tracks]

    @property
    def query(self) -> str:
        return urlencode(self.params)


class ProgrammeFilterForm(forms.Form):
    """Reads the agenda's and the calendar's query string. Tracks are checked against
    the programme by the caller, which has it loaded."""

    day = forms.DateField(label=_("Day"), required=False, input_formats=["%Y-%m-%d"])
    kind = forms.MultipleChoiceField(label=_("Kind"), choices=Session.Kind.choices, required=False)
    track = IntegerListField(label=_("Track"), required=False)

    @property
    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(kinds=tuple(sorted(set(data["kind"]))), tracks=tuple(data["track"]))


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the programme"),
        max_length=100,
        required=False,
        error_messages={"max_length": _("Search for at most %(limit_value)d characters.")},
    )

    def clean_q(self) -> str:
        # Control characters never occur in the programme: treat them as spaces.
        text = "".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in self.cleaned_data["q"])
        return " ".join(text.split())
