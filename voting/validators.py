"""What a voter may type: any letters, digits, punctuation and emoji; no control characters."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Controls, formats (zero-width and direction marks), surrogates, private use, unassigned.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def validate_visible_text(value: str) -> None:
    """One line of visible text; markup is fine, it is escaped wherever it is shown."""
    if any(unicodedata.category(char) in HIDDEN_CATEGORIES for char in value):
        raise ValidationError(
            _("Leave out invisible characters such as line breaks and control characters."), code="hidden"
        )
