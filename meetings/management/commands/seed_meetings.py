"""`manage.py seed_meetings`: the demo meeting blocks and participants of both GROW your REGIOn
editions (seed_demo runs it, after the programme)."""

from django.core.management.base import BaseCommand

from agenda import demo as agenda_demo
from agenda.models import Conference
from meetings.demo import seed_meetings


class Command(BaseCommand):
    help = "Create or update the demo meeting blocks of the 2017 and upcoming editions (idempotent)."

    def handle(self, *args, **options):
        conferences = list(Conference.objects.filter(slug__in=[agenda_demo.PAST_SLUG, agenda_demo.UPCOMING_SLUG]))
        for block in seed_meetings(conferences):
            self.stdout.write(f"Meeting block in /{block.session.conference.slug}/meetings/: {block}")
