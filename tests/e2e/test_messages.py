import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda import demo as agenda_demo
from agenda.models import Session
from registration import services
from registration.models import Consent, Message
from registration.selectors import privacy_statement
from tests.conftest import log_in
from tests.factories import OrganiserFactory, VerifiedUserFactory, attendee_details

pytestmark = pytest.mark.slow


def register(email: str, conference, code: str, **details):
    session = Session.objects.get(conference=conference, code=code)
    return services.register(
        VerifiedUserFactory(email=email),
        conference,
        details=attendee_details(**details),
        session_ids=[session.pk],
        privacy_statement=privacy_statement(conference),
        consents=[Consent.Purpose.MESSAGES],  # the message is an optional one
    )


def test_organiser_messages_one_pre_events_attendees_each_once_in_their_language(
    page, live_server, celery_worker, smtp_sink
):
    _past, conference = agenda_demo.seed_growyourregion(today=timezone.localdate())
    pre_event = Session.objects.get(conference=conference, code="pre-interreg")
    register("ela@example.pl", conference, "pre-interreg", given_name="Elżbieta", language="en")
    register("inaki@example.es", conference, "pre-interreg", given_name="Iñaki", language="es")
    register("marcella@example.de", conference, "pre-interreg", given_name="Marcel·la", language="de")
    register("other@example.fr", conference, "pre-partnerships", given_name="Other", language="fr")
    organiser = OrganiserFactory(email="organiser@example.org")
    log_in(page, organiser, live_server.url)

    page.goto("/admin/registration/message/add/")
    page.select_option("#id_conference", str(conference.pk))
    page.get_by_label("Confirmed").check()
    page.select_option("#id_pre_event", str(pre_event.pk))
    page.fill("#id_subject_en", "Room change for {conference}")
    page.fill("#id_body_en", "Dear {given_name}, the Interreg pre-event moves to room B.")
    page.fill("#id_subject_es", "Cambio de sala")
    page.fill("#id_body_es", "Hola {given_name}, el pre-evento de Interreg pasa a la sala B.")
    page.click("input[name=_continue]")

    page.get_by_role("link", name="Preview and test").click()
    expect(page.locator("#content")).to_contain_text("Dear Elżbieta, the Interreg pre-event moves to room B.")
    page.get_by_role("button", name=re.compile("Send a test to")).click()
    smtp_sink.to("organiser@example.org")

    page.get_by_role("link", name="Back to the message").click()
    page.get_by_role("link", name="Send…").click()
    expect(page.locator("#content")).to_contain_text("will be emailed to 3 people of")
    page.get_by_role("button", name="Yes, send it to 3 people").dblclick()

    # The progress display follows the outbox without a reload.
    expect(page.locator("[data-progress=sent]")).to_have_text("3", timeout=30_000)
    expect(page.locator("[data-progress=state_label]")).to_have_text("Sent")
    time.sleep(5)  # a second copy, were there one, would have come by now
    subjects = {f"Room change for {conference.name}", "Cambio de sala"}
    sent = [message for message in smtp_sink.messages if message["Subject"] in subjects]
    assert sorted(message["To"] for message in sent) == ["ela@example.pl", "inaki@example.es", "marcella@example.de"]
    received = {message["To"]: message for message in sent}
    assert received["ela@example.pl"]["Subject"] == f"Room change for {conference.name}"
    assert received["inaki@example.es"]["Subject"] == "Cambio de sala"
    assert "Hola Iñaki" in received["inaki@example.es"].get_body(preferencelist=("plain",)).get_content()
    # No German translation: the original.
    assert "Dear Marcel·la" in received["marcella@example.de"].get_body(preferencelist=("plain",)).get_content()
    assert Message.objects.get().state == Message.State.SENT
