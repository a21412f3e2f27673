import datetime as dt

from playwright.sync_api import expect

from registration.models import Registration, User
from tests.conftest import first_link
from tests.factories import ConferenceFactory, PreEventFactory


def test_newcomer_signs_up_registers_with_two_pre_events_changes_one_and_cancels(page, celery_worker, smtp_sink):
    conference = ConferenceFactory(name="GROW your REGIOn", timezone="Europe/Madrid")
    lab = PreEventFactory(conference=conference, title="Smart specialisation lab", capacity=30)
    parallel = PreEventFactory(conference=conference, title="Cluster excellence clinic", start=lab.start, capacity=30)
    afternoon = PreEventFactory(
        conference=conference, title="Internationalisation workshop", start=lab.end + dt.timedelta(hours=1)
    )

    # Not logged in: the register page sends her to log in, and on to sign up.
    page.goto(f"/{conference.slug}/register/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Sign up", exact=True).click()
    page.get_by_label("Email").fill("ela.bienkowska@example.eu")
    page.get_by_label("Password:", exact=True).fill("Klastry-2017-Valencia")
    page.get_by_label("Password again:").fill("Klastry-2017-Valencia")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(first_link(smtp_sink.to("ela.bienkowska@example.eu")))
    page.get_by_role("button", name="Confirm").click()

    # Back on the form she came for.
    expect(page.get_by_role("heading", name="Register for GROW your REGIOn")).to_be_visible()
    page.get_by_label("Given name").fill("Elźbieta")
    page.get_by_label("Family name").fill("Bieńkowska")
    page.get_by_label("Job title").fill("Cluster manager")
    page.get_by_label("Organisation:", exact=True).fill("Klaster Obróbki Metali")
    page.get_by_label("Organisation type").select_option(label="Cluster organisation")
    page.get_by_label("Country").select_option(label="Poland")
    page.get_by_label("Smart specialisation lab").check()
    page.get_by_label("Internationalisation workshop").check()
    page.get_by_label("I have read the privacy statement above and agree to it.").check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Your registration", exact=True)).to_be_visible()
    expect(page.get_by_text("Your place at GROW your REGIOn is confirmed.")).to_be_visible()
    expect(page.get_by_text("Elźbieta Bieńkowska")).to_be_visible()
    pre_events = page.get_by_role("region", name="Your pre-events")
    expect(pre_events.get_by_text("Smart specialisation lab")).to_be_visible()
    expect(pre_events.get_by_text("Internationalisation workshop")).to_be_visible()
    confirmation = smtp_sink.wait_for(lambda m: "Your registration is confirmed" in m["Subject"])
    assert confirmation["To"] == "ela.bienkowska@example.eu"

    # She swaps the morning lab for the clinic that runs at the same time.
    page.get_by_role("link", name="Change your pre-events").click()
    page.get_by_label("Smart specialisation lab").uncheck()
    page.get_by_label("Cluster excellence clinic").check()
    page.get_by_role("button", name="Save my choices").click()

    expect(page.get_by_text("Your pre-event choices are saved.")).to_be_visible()
    expect(pre_events.get_by_text("Cluster excellence clinic")).to_be_visible()
    expect(pre_events.get_by_text("Smart specialisation lab")).to_have_count(0)

    # And then she cannot come after all.
    page.get_by_role("link", name="Cancel your registration").click()
    page.get_by_role("button", name="Yes, cancel my registration").click()

    expect(page.get_by_text("This registration is cancelled.")).to_be_visible()
    smtp_sink.wait_for(lambda m: "Your registration is cancelled" in m["Subject"])
    registration = Registration.objects.get(user=User.objects.get(email="ela.bienkowska@example.eu"))
    assert (registration.full_name, registration.country.name) == ("Elźbieta Bieńkowska", "Poland")
    assert registration.status == Registration.Status.CANCELLED
    assert list(registration.changes.values_list("action", flat=True)) == [
        "registered",
        "bookings_changed",
        "cancelled",
    ]
    assert registration.changes.get(action="bookings_changed").details["added"] == [parallel.code]
    assert afternoon.code in registration.changes.get(action="registered").details["pre_events"]
