"""The house was rebuilt on a live schema: a database made before it (registration holding the
outbox, no accounts app) migrates forward with its data, and nothing is lost."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from outbox.models import OutgoingEmail
from registration.models import Registration, User

# The schema before the outbox and accounts had rooms of their own.
BEFORE = [("agenda", "0003_content_in_several_languages"), ("registration", "0001_initial"), ("outbox", None)]


@pytest.mark.django_db(transaction=True)
def test_outbox_moves_out_of_registration_with_its_rows_and_permissions():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old = MigrationExecutor(connection).loader.project_state([target for target in BEFORE if target[1]]).apps
        conference = old.get_model("agenda", "Conference").objects.create(
            name="GROW your REGIOn",
            slug="growyourregion-2017",
            start_date=dt.date(2017, 11, 8),
            end_date=dt.date(2017, 11, 9),
            capacity=350,
        )
        user = old.get_model("registration", "User").objects.create(email="elzbieta@example.eu")
        registration = old.get_model("registration", "Registration").objects.create(
            conference=conference,
            user=user,
            number=1,
            status="confirmed",
            given_name="Elżbieta",
            family_name="Bieńkowska",
            organisation="Regional Development Agency of Łódź",
            organisation_type="public_authority",
            country="PL",
            privacy_statement_agreed="We keep your details.",
            privacy_agreed_at=dt.datetime(2017, 10, 1, tzinfo=dt.UTC),
        )
        email = old.get_model("registration", "OutgoingEmail").objects.create(
            registration=registration,
            kind="confirmed",
            to="elzbieta@example.eu",
            subject="GROW your REGIOn: Your registration is confirmed",
            body_text="Dear Elżbieta,",
            message_id="<1@example.org>",
            status="sent",
        )
        ContentType = old.get_model("contenttypes", "ContentType")
        email_type, _ = ContentType.objects.get_or_create(app_label="registration", model="outgoingemail")
        viewer, _ = old.get_model("auth", "Permission").objects.get_or_create(
            content_type=email_type, codename="view_outgoingemail", defaults={"name": "Can view outgoing email"}
        )
        staff = old.get_model("registration", "User").objects.create(email="staff@example.org", is_staff=True)
        staff.user_permissions.add(viewer)

        MigrationExecutor(connection).migrate(latest)

        moved = OutgoingEmail.objects.get(pk=email.pk)
        assert (moved.to, moved.subject, moved.status, moved.conference.slug) == (
            "elzbieta@example.eu",
            "GROW your REGIOn: Your registration is confirmed",
            "sent",
            "growyourregion-2017",
        )
        assert Registration.objects.get(pk=registration.pk).family_name == "Bieńkowska"
        permission = Permission.objects.get(pk=viewer.pk)
        assert (permission.content_type.app_label, permission.codename) == ("outbox", "view_outgoingemail")
        assert User.objects.get(email="staff@example.org").has_perm("outbox.view_outgoingemail")
    finally:
        MigrationExecutor(connection).migrate(latest)
