"""`manage.py seed_checkin`: the demo check-in team and attendees (seed_demo runs it)."""

from django.core.management.base import BaseCommand

from agenda.demo import UPCOMING_SLUG
from checkin.demo import seed_checkin


class Command(BaseCommand):
    help = "Create or update the upcoming edition's check-in team and demo attendees with tickets (idempotent)."

    def handle(self, *args, **options):
        team, registrations = seed_checkin()
        self.stdout.write(
            f"{team.name}: {', '.join(team.members.values_list('email', flat=True))} checks people in at "
            f"/{UPCOMING_SLUG}/checkin/; {len(registrations)} demo attendees with tickets"
        )
