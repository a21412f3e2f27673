from django import forms
from django.utils.translation import gettext_lazy as _

from checkin.pdf import LAYOUTS


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, organisation or number"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("Type at most 200 characters.")},
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Ticket code"),
        max_length=200,
        help_text=_("The code printed under the QR code on the ticket."),
        error_messages={
            "required": _("Type or scan the ticket code."),
            "max_length": _("A ticket code is at most 200 characters long."),
        },
    )


class TapForm(forms.Form):
    number = forms.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        error_messages={"required": _("Choose a person to check in."), "invalid": _("This is not a number.")},
    )


class UndoForm(forms.Form):
    check_in = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class BadgeForm(forms.Form):
    WHO = (
        ("all", _("Everyone confirmed")),
        ("new", _("Those confirmed since the last print")),
        ("one", _("One person (by registration number)")),
    )
    who = forms.ChoiceField(label=_("Badges for"), choices=WHO, widget=forms.RadioSelect, initial="all")
    number = forms.IntegerField(
        label=_("Registration number"),
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("Only for one person."),
        error_messages={"invalid": _("Type the number of the registration.")},
    )
    layout = forms.ChoiceField(
        label=_("Paper"),
        choices=[(LAYOUTS[0], _("A6: one badge a page")), (LAYOUTS[1], _("A4: four badges a sheet, to cut"))],
        widget=forms.RadioSelect,
        initial=LAYOUTS[0],
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("who") == "one" and not cleaned.get("number"):
            self.add_error("number", _("Type the registration number of the person whose badge to print."))
        return cleaned
