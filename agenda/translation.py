"""Programme content that organisers give in several languages (django-modeltranslation).

Each field below gets a column per language of settings.LANGUAGES (title_en, title_es
...). Reading `session.title` gives the active language's text when there is one, else
the original: the default language's (settings.LANGUAGE_CODE), which organisers always
give. Queries through the models' managers read the active language's column too.
"""

from django.conf import settings
from django.db import models
from modeltranslation.translator import TranslationOptions, register
from modeltranslation.utils import build_localized_fieldname, get_language

from agenda.models import Conference, Room, Session, Speaker, Track


@register(Conference)
class ConferenceTranslation(TranslationOptions):
    fields = ("name", "tagline", "description")


# A name is unique in its conference in each language: one not given is NULL, not "", so
# that rooms without a Spanish name do not clash.
@register(Room)
class RoomTranslation(TranslationOptions):
    fields = ("name",)
    empty_values = None


@register(Track)
class TrackTranslation(TranslationOptions):
    fields = ("name",)
    empty_values = None


@register(Speaker)
class SpeakerTranslation(TranslationOptions):
    fields = ("title", "biography")


@register(Session)
class SessionTranslation(TranslationOptions):
    fields = ("title", "abstract", "description")


def original(field: str) -> str:
    """The column of a translated field that holds the original text: title -> title_en."""
    return build_localized_fieldname(field, settings.LANGUAGE_CODE)


def shown_in_original(obj: models.Model, field: str) -> str | None:
    """The language of the text a reader gets for `field` of `obj` when it is not theirs: the
    original language, shown because theirs has no translation; None when the text is in
    the reader's language (or empty). Pages mark such text with `lang` (WCAG 3.1.2)."""
    language = get_language()
    if language == settings.LANGUAGE_CODE or getattr(obj, build_localized_fieldname(field, language)):
        return None
    return settings.LANGUAGE_CODE if getattr(obj, field) else None
