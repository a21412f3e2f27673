from django.db.models import QuerySet
from django.utils import timezone

from agenda.models import Conference


def conferences_for_listing() -> tuple[QuerySet[Conference], QuerySet[Conference]]:
    """Published conferences: (upcoming soonest first, past most recent first)."""
    today = timezone.localdate()
    published = Conference.objects.published()
    return (
        published.filter(end_date__gte=today).order_by("start_date"),
        published.filter(end_date__lt=today).order_by("-start_date"),
    )
