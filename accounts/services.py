"""Writes about a person rather than a registration."""

from django.contrib.auth import get_user_model


def remember_language(user, *, language: str) -> None:
    """Keep `language`, chosen with the site's language switch, as the user's own: account
    emails and their next registration's form default to it. One UPDATE of the user's row,
    only when the language changes; takes no lock."""
    if user.language != language:
        get_user_model().objects.filter(pk=user.pk).update(language=language)
        user.language = language
