"""Validators for what attendees type: names stay names, free text stays text."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Besides letters and their accents, names use these: "Jean-Luc", "O’Brien", "Dr. Smith".
NAME_PUNCTUATION = frozenset(" -'’.")
# Unicode categories that are not text a person types in a form: controls, formats
# (zero-width and direction marks), unassigned, private use, surrogates and symbols (emoji).
NON_TEXT_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "So", "Sk"})
LINE_BREAKS = frozenset("\r\n")


def validate_name(value: str) -> None:
    """A person's name: letters in any script with their accents, spaces, hyphens, apostrophes, full stops."""
    if not any(unicodedata.category(char).startswith("L") for char in value):
        raise ValidationError(_("Enter a name with letters."), code="no_letters")
    if any(not unicodedata.category(char).startswith(("L", "M")) and char not in NAME_PUNCTUATION for char in value):
        raise ValidationError(
            _("Use only letters, spaces, hyphens, apostrophes and full stops in a name."), code="invalid_name"
        )


def validate_plain_text(value: str) -> None:
    """Text a person types: no markup, no control characters other than line breaks, no emoji."""
    if "<" in value or ">" in value:
        raise ValidationError(_("Leave out the characters < and >."), code="markup")
    if any(unicodedata.category(char) in NON_TEXT_CATEGORIES and char not in LINE_BREAKS for char in value):
        raise ValidationError(_("Use letters, digits and punctuation only (no emoji or symbols)."), code="non_text")
