from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from agenda import selectors
from agenda.models import Conference


def conference_list(request: HttpRequest) -> HttpResponse:
    upcoming, past = selectors.conferences_for_listing()
    return render(request, "agenda/conference_list.html", {"upcoming": upcoming, "past": past})


def conference_detail(request: HttpRequest, slug: str) -> HttpResponse:
    conference = get_object_or_404(Conference.objects.published(), slug=slug)
    return render(request, "agenda/conference_detail.html", {"conference": conference})
