"""Links that grant access to an account, stored in the outbox before emails were written at
send time, are erased when the database migrates."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from outbox.models import OutgoingEmail

BEFORE = [("outbox", "0002_conference")]


@pytest.mark.django_db(transaction=True)
def test_stored_account_links_are_erased_and_unsent_ones_never_sent():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("outbox", "OutgoingEmail")
        link = "https://cluster.example.eu/accounts/password/reset/key/4-secret/"
        sent = old.objects.create(
            kind="account_password_reset_key",
            to="a@example.org",
            subject="Reset",
            body_text=link,
            body_html=f"<a href='{link}'>",
            message_id="<1@example.org>",
            status="sent",
        )
        queued = old.objects.create(
            kind="account_email_confirmation_signup",
            to="b@example.org",
            subject="Confirm",
            body_text=link,
            message_id="<2@example.org>",
            status="queued",
        )
        other = old.objects.create(
            kind="confirmed",
            to="c@example.org",
            subject="Confirmed",
            body_text="Dear Elżbieta,",
            message_id="<3@example.org>",
            status="sent",
        )

        MigrationExecutor(connection).migrate(latest)

        sent, queued, other = (OutgoingEmail.objects.get(pk=email.pk) for email in (sent, queued, other))
        assert (sent.status, sent.body_text, sent.body_html, sent.subject) == ("sent", "", "", "Reset")
        assert (queued.status, queued.body_text) == ("failed", "")
        assert queued.last_error == "Not sent: its link was erased; the person can ask again."
        assert (other.status, other.body_text) == ("sent", "Dear Elżbieta,")
    finally:
        MigrationExecutor(connection).migrate(latest)
