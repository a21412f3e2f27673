from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from conference.validators import validate_line, validate_plain_text
from voting.models import ANSWER_MAX_LENGTH, QUESTION_MAX_LENGTH, Poll


class VoteForm(forms.Form):
    """A ballot for one poll, shaped by its kind; the service checks it again against the poll."""

    def __init__(self, *args, poll: Poll, answers: list | None = None, **kwargs) -> None:
        kwargs.setdefault("prefix", f"poll{poll.pk}")
        if answers:
            kwargs["initial"] = self._initial(poll, answers)
        super().__init__(*args, **kwargs)
        self.poll = poll
        choices = [(option.pk, option.label) for option in poll.options.all()]
        required = {"required": _("Choose an answer before you vote.")}
        match poll.kind:
            case Poll.Kind.SINGLE:
                self.fields["options"] = forms.TypedChoiceField(
                    label=poll.question, choices=choices, coerce=int, widget=forms.RadioSelect, error_messages=required
                )
            case Poll.Kind.MULTIPLE:
                self.fields["options"] = forms.TypedMultipleChoiceField(
                    label=poll.question,
                    help_text=ngettext_lazy(
                        "Choose up to %(count)d option.", "Choose up to %(count)d options.", "count"
                    )
                    % {"count": poll.max_choices},
                    choices=choices,
                    coerce=int,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages=required,
                )
            case Poll.Kind.RANKING:
                for place in range(1, len(choices) + 1):
                    self.fields[f"rank_{place}"] = forms.TypedChoiceField(
                        label=pgettext_lazy("ranking", "Place %(place)d") % {"place": place},
                        choices=[("", _("(none)")), *choices],
                        coerce=int,
                        empty_value=None,
                        required=place == 1,
                        error_messages=required,
                    )
            case Poll.Kind.RATING:
                self.fields["value"] = forms.TypedChoiceField(
                    label=poll.question,
                    choices=[(value, str(value)) for value in range(1, poll.scale + 1)],
                    coerce=int,
                    widget=forms.RadioSelect,
                    error_messages=required,
                )
            case Poll.Kind.OPEN:
                self.fields["text"] = forms.CharField(
                    label=poll.question,
                    max_length=ANSWER_MAX_LENGTH,
                    validators=[validate_line],
                    error_messages=required,
                )

    @staticmethod
    def _initial(poll: Poll, answers: list) -> dict:
        """The form filled in with the voter's current vote, for them to change it."""
        match poll.kind:
            case Poll.Kind.SINGLE:
                return {"options": answers[0].option_id}
            case Poll.Kind.MULTIPLE:
                return {"options": [answer.option_id for answer in answers]}
            case Poll.Kind.RANKING:
                return {f"rank_{answer.rank}": answer.option_id for answer in answers}
            case Poll.Kind.RATING:
                return {"value": answers[0].value}
        return {"text": answers[0].text}

    def clean(self) -> dict:
        data = super().clean()
        if self.poll.kind == Poll.Kind.RANKING:
            ranked = [data.get(f"rank_{place}") for place in range(1, self.poll.options.count() + 1)]
            data["options"] = [pk for pk in ranked if pk is not None]
            if len(set(data["options"])) != len(data["options"]):
                raise forms.ValidationError(_("Give each option one place only."))
        elif self.poll.kind == Poll.Kind.SINGLE and "options" in data:
            data["options"] = [data["options"]]
        return data

    def ballot(self) -> dict:
        """The service's keyword arguments."""
        data = self.cleaned_data
        return {"options": data.get("options", []), "value": data.get("value"), "text": data.get("text", "")}


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("Join code"),
        max_length=12,
        help_text=_("Shown on the screen in the room and in the stream."),
        error_messages={"required": _("Enter the join code shown on the screen.")},
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()


class QuestionForm(forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=QUESTION_MAX_LENGTH,
        # Typed over several lines if need be: they are joined with spaces when it is saved.
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write your question first.")},
    )
