import pytest
from celery import current_app

from registration.emails import queue_email
from registration.models import OutgoingEmail


@pytest.fixture
def eager_tasks():
    """The fallback of `make run` without Redis: tasks run eagerly, in the web process."""
    # Celery's settings object cannot be monkeypatched (it has no attribute to restore).
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_tasks")
def test_queue_email_without_a_broker_sends_in_process(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_email(
            to="elzbieta@example.eu",
            subject="Your place at GROW your REGIOn",
            body_text="See you in Valencia.",
            kind="confirmed",
            language="en",
        )

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert [(message.to, message.subject) for message in mailoutbox] == [
        (["elzbieta@example.eu"], "Your place at GROW your REGIOn")
    ]
