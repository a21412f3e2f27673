import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox.models import OutgoingEmail
from tests.factories import ConferenceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/outbox/outgoingemail/"


def make_email(number: int = 0, **fields) -> OutgoingEmail:
    defaults = {
        "to": f"person{number}@example.org",
        "subject": f"Cluster Days: Your registration is confirmed ({number})",
        "body_text": "Dear Elźbieta,\n",
        "kind": "confirmed",
        "message_id": f"<{number}.{OutgoingEmail.objects.count()}@example.org>",
    }
    return OutgoingEmail.objects.create(**(defaults | fields))


def test_outbox_list_shows_status_attempts_and_error(admin_client):
    make_email(1, status=OutgoingEmail.Status.SENT, attempts=1)
    make_email(2, status=OutgoingEmail.Status.FAILED, attempts=1, last_error="Recipient refused: 550 No such user")

    page = admin_client.get(CHANGELIST).content.decode()

    assert "person1@example.org" in page
    assert "person2@example.org" in page
    assert "Recipient refused: 550 No such user" in page
    assert "Failed" in page
    assert "Sent" in page


def test_outbox_list_filters_and_searches(admin_client):
    make_email(1, status=OutgoingEmail.Status.SENT)
    make_email(2, status=OutgoingEmail.Status.FAILED)
    make_email(3, kind="reminder", to="ela@example.pl")

    failed = admin_client.get(CHANGELIST, {"status__exact": "failed"}).content.decode()
    reminders = admin_client.get(CHANGELIST, {"kind": "reminder"}).content.decode()
    found = admin_client.get(CHANGELIST, {"q": "ela@example"}).content.decode()

    assert "person2@example.org" in failed
    assert "person1@example.org" not in failed
    assert "ela@example.pl" in reminders
    assert "person1@example.org" not in reminders
    assert "ela@example.pl" in found
    assert "person2@example.org" not in found


def test_outbox_list_queries_do_not_grow_with_emails(admin_client):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CHANGELIST).status_code == 200
        return len(queries)

    conference = ConferenceFactory()
    make_email(0, conference=conference)
    one = queries_for_list()
    for number in range(1, 50):
        make_email(number, conference=ConferenceFactory() if number % 2 else conference)

    assert queries_for_list() == one


def test_outbox_email_page_is_read_only_and_shows_message(admin_client):
    email = make_email(1, status=OutgoingEmail.Status.FAILED, last_error="Recipient refused: 550 No such user")
    email.attachments = [{"filename": "cluster-days.ics", "content": "", "mimetype": "text/calendar"}]
    email.save()

    page = admin_client.get(f"{CHANGELIST}{email.pk}/change/").content.decode()

    assert "Recipient refused: 550 No such user" in page
    assert "Dear Elźbieta," in page
    assert "cluster-days.ics" in page
    assert 'name="to"' not in page
    assert 'name="_save"' not in page
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_resend_action_copies_sent_and_failed_emails_only(admin_client):
    sent = make_email(1, status=OutgoingEmail.Status.SENT)
    failed = make_email(2, status=OutgoingEmail.Status.FAILED)
    queued = make_email(3)

    response = admin_client.post(
        CHANGELIST, {"action": "resend", "_selected_action": [sent.pk, failed.pk, queued.pk]}, follow=True
    )

    copies = OutgoingEmail.objects.exclude(pk__in=[sent.pk, failed.pk, queued.pk])
    assert sorted((copy.to, copy.status) for copy in copies) == [
        ("person1@example.org", OutgoingEmail.Status.QUEUED),
        ("person2@example.org", OutgoingEmail.Status.QUEUED),
    ]
    page = response.content.decode()
    assert "2 emails queued again." in page
    assert "1 email is still on its way and was left alone." in page


def test_outbox_email_page_never_shows_an_account_email_body(admin_client):
    # As stored before account emails were written at send time: the body held a reset link.
    email = make_email(
        1,
        kind="account_password_reset_key",
        status=OutgoingEmail.Status.SENT,
        body_text="https://cluster.example.eu/accounts/password/reset/key/4-secret/",
    )

    page = admin_client.get(f"{CHANGELIST}{email.pk}/change/").content.decode()

    assert "/accounts/password/reset/key/" not in page
    assert "Not shown: an account email can hold a link that gives access to the account." in page
