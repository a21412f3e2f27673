"""`manage.py seed_demo`: the demo conferences and accounts, and optionally the `bench` conference."""

import os
import secrets
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agenda import demo as agenda_demo
from registration import demo


class Command(BaseCommand):
    help = (
        "Create or update GROW your REGIOn 2017, its upcoming edition and the demo accounts (idempotent). "
        "With --bench-sessions/--bench-attendees, also recreate the synthetic `bench` conference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bench-sessions", type=int, metavar="M", help="sessions of the bench conference")
        parser.add_argument(
            "--bench-attendees", type=int, default=0, metavar="N", help="confirmed attendees of the bench conference"
        )

    def handle(self, *args, bench_sessions: int | None, bench_attendees: int, **options):
        if bench_sessions is None and bench_attendees:
            raise CommandError("--bench-attendees needs --bench-sessions.")
        if bench_sessions is not None and (bench_sessions < 1 or bench_attendees < 0):
            raise CommandError("--bench-sessions must be at least 1 and --bench-attendees at least 0.")
        today = timezone.localdate()
        chosen_password = os.environ.get("DEMO_PASSWORD", "")
        password = chosen_password or secrets.token_urlsafe(12)

        conferences = agenda_demo.seed_growyourregion(today=today)
        for conference in conferences:
            self.stdout.write(
                f"{conference.name}: /{conference.slug}/, {conference.start_date:%d %B %Y}, "
                f"{conference.sessions.count()} sessions"
            )
        # By name, not by import: registration does not import the apps built on it.
        call_command("seed_voting", stdout=self.stdout)
        call_command("seed_meetings", stdout=self.stdout)
        for user, password_set in demo.seed_demo_accounts(password=password, keep_passwords=not chosen_password):
            shown = password if password_set else "unchanged (set DEMO_PASSWORD to choose one)"
            self.stdout.write(f"Demo login: {user.email}  password: {shown}")
        # After the accounts: the check-in team's member is one of them.
        call_command("seed_checkin", stdout=self.stdout)
        # After the attendees, whom it goes to.
        message = demo.seed_demo_message()
        self.stdout.write(
            f"{message.conference.name}: the message “{message.subject_en}” to {message.recipient_count} attendees"
        )

        if bench_sessions is not None:
            started = time.monotonic()
            conference = demo.seed_bench(
                sessions=bench_sessions, attendees=bench_attendees, password=password, today=today
            )
            self.stdout.write(
                f"{conference.name}: /{conference.slug}/, {conference.sessions.count()} sessions, "
                f"{conference.registrations.count()} attendees (bench-000001@example.org … with the password "
                f"{password}), made in {time.monotonic() - started:.1f} s"
            )
