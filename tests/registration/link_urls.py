"""The site's URLs with stand-ins for the pages that emails and calendar files link to by
name: the attendee's registration (`registration:mine`) and a session (`agenda:session`)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

import agenda.urls
import registration.urls
from conference.urls import urlpatterns as site_urlpatterns


def stand_in(request: HttpRequest, **kwargs: str) -> HttpResponse:
    return HttpResponse("")


agenda_patterns = [*agenda.urls.urlpatterns, path("<slug:slug>/agenda/<slug:code>/", stand_in, name="session")]
registration_patterns = [
    *registration.urls.urlpatterns,
    path("<slug:slug>/my-registration/", stand_in, name="mine"),
]

urlpatterns = [
    *(pattern for pattern in site_urlpatterns if getattr(pattern, "namespace", None) not in {"agenda", "registration"}),
    path("", include((agenda_patterns, "agenda"))),
    path("", include((registration_patterns, "registration"))),
]
