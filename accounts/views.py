from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views import i18n

from accounts import services


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (a cookie for this browser), which also keeps the choice on the
    account of a logged-in user: account emails and their next registration default to it."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.remember_language(request.user, language=language)
    return response
