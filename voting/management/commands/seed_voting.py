"""`manage.py seed_voting`: the demo polls of both GROW your REGIOn editions (seed_demo runs it)."""

from django.core.management.base import BaseCommand

from voting.demo import seed_voting


class Command(BaseCommand):
    help = "Create or update the demo polls of the 2017 and upcoming editions (idempotent)."

    def handle(self, *args, **options):
        for poll in seed_voting():
            session = poll.session
            self.stdout.write(f"Poll in /{session.conference.slug}/agenda/{session.code}/ ({poll.state}): {poll}")
