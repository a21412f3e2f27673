"""The one rule for what people type in the site's forms: any visible text goes.

Names and answers come in every script, with accents and combining marks, digits ("III"),
commas ("King, Jr."), the Catalan middle dot ("Marcel·la"), symbols ("4°C", "Region®"),
emoji and even markup ("< 75 cm"): pages, emails, exports and PDFs escape what they show.
Refused is only what cannot be seen and can disguise text: control characters,
zero-width characters and direction overrides.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Controls, formats (zero-width spaces and joiners, direction marks and overrides, the byte
# order mark, soft hyphens) and lone surrogates.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# What a text area sends between lines, and tabs pasted from a spreadsheet.
LINE_SPACING = frozenset("\r\n\t")
LINE_BREAKS = frozenset("\r\n")


def validate_plain_text(value: str) -> None:
    """Text a person types, on one line or several: anything visible, line breaks and tabs too."""
    if any(unicodedata.category(char) in HIDDEN_CATEGORIES and char not in LINE_SPACING for char in value):
        raise ValidationError(
            _(
                "Leave out invisible characters such as control characters, zero-width spaces "
                "and direction marks; they often come along with copied text."
            ),
            code="hidden",
        )


def validate_line(value: str) -> None:
    """Text a person types on one line: `validate_plain_text` without line breaks or tabs."""
    if any(char in LINE_SPACING for char in value):
        raise ValidationError(_("Write this on one line."), code="line_break")
    validate_plain_text(value)


def validate_name(value: str) -> None:
    """A person's name as they write it, in any script: `validate_line` with at least one letter."""
    validate_line(value)
    if not any(unicodedata.category(char).startswith("L") for char in value):
        raise ValidationError(_("Enter a name with letters."), code="no_letters")
