"""The conference as the retention admin sees it reads its name in the active language, as
agenda.translation gives it (django-modeltranslation must know the proxy to build it)."""

from modeltranslation.translator import TranslationOptions, register

from registration.models import ConferenceRetention


@register(ConferenceRetention)
class ConferenceRetentionTranslation(TranslationOptions):
    fields = ()
