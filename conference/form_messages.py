"""Django's default form messages in the site's voice, for every form at once (ours, the
admin's, allauth's): each says what to do ("Fill in this field.", "Shorten this to ..."),
as the messages written for our own fields do.

Fields copy their messages when they are made, and forms make theirs when their module is
imported, so this runs before any form module is: when the project package is imported.
"""

from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

REQUIRED = _("Fill in this field.")
CHOOSE_FROM_LIST = _("“%(value)s” is not one of the options; choose one from the list.")


def speak_plainly() -> None:
    forms.Field.default_error_messages["required"] = REQUIRED
    validators.MaxLengthValidator.message = _(
        "Shorten this to at most %(limit_value)d characters (it has %(show_value)d)."
    )
    validators.MinLengthValidator.message = _(
        "Lengthen this to at least %(limit_value)d characters (it has %(show_value)d)."
    )
    validators.ProhibitNullCharactersValidator.message = _("Leave out invisible characters such as null characters.")
    validators.EmailValidator.message = _("Enter an email address such as name@example.org.")
    validators.URLValidator.message = _("Enter a web address such as https://example.org.")
    validators.MaxValueValidator.message = _("Enter a number no greater than %(limit_value)s.")
    validators.MinValueValidator.message = _("Enter a number no less than %(limit_value)s.")
    for field, messages in (
        (forms.IntegerField, {"invalid": _("Enter a whole number.")}),
        (forms.DecimalField, {"invalid": _("Enter a number.")}),
        (forms.FloatField, {"invalid": _("Enter a number.")}),
        (forms.ChoiceField, {"invalid_choice": CHOOSE_FROM_LIST}),
        (forms.ModelChoiceField, {"invalid_choice": CHOOSE_FROM_LIST}),
    ):
        field.default_error_messages = {**field.default_error_messages, **messages}
    forms.MultipleChoiceField.default_error_messages = {
        **forms.MultipleChoiceField.default_error_messages,
        "invalid_choice": CHOOSE_FROM_LIST,
        "invalid_list": _("Choose from the list."),
    }
    forms.ModelMultipleChoiceField.default_error_messages = {
        **forms.ModelMultipleChoiceField.default_error_messages,
        "invalid_choice": CHOOSE_FROM_LIST,
        "invalid_pk_value": CHOOSE_FROM_LIST,
        "invalid_list": _("Choose from the list."),
    }
