import datetime as dt
import json
import re
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from checkin import services, tasks
from checkin.models import BadgePrint, BadgeRun, BadgeRunPart, CheckIn, OfflineScan
from checkin.selectors import door_for
from outbox.models import OutgoingEmail
from registration.models import Registration
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    PreEventFactory,
    RegistrationFactory,
    StaffFactory,
    TeamFactory,
    VerifiedUserFactory,
)

pytestmark = pytest.mark.django_db


def desk_url(conference, door) -> str:
    return reverse("checkin:desk", kwargs={"slug": conference.slug, "door": door.key})


def outcome(content: str) -> str:
    match = re.search(r'<section id="outcome".*?</section>', content, re.S)
    return match.group(0) if match else ""


def test_the_desk_checks_in_by_ticket_code_then_says_already(client, conference, door, door_staff, attendee):
    token = services.ensure_ticket(attendee).token
    client.force_login(door_staff)

    first = client.post(desk_url(conference, door), {"token": f"  {token}\n"})
    again = client.post(desk_url(conference, door), {"token": token})

    assert first.status_code == 200
    assert "outcome-ok" in outcome(first.content.decode())
    assert "Elżbieta Bieńkowska" in outcome(first.content.decode())
    assert "Dietary requirements: Vegetarian" in outcome(first.content.decode())
    assert again.status_code == 409
    assert "outcome-refused" in outcome(again.content.decode())
    assert "Already checked in at" in outcome(again.content.decode())
    assert "door@example.org" in outcome(again.content.decode())
    assert CheckIn.objects.count() == 1


def test_the_desk_refuses_a_forged_code_with_a_clear_answer(client, conference, door, door_staff):
    client.force_login(door_staff)

    response = client.post(desk_url(conference, door), {"token": '=HYPERLINK("http://x")<script>'})

    assert response.status_code == 400
    assert "Not registered: this ticket is not known here." in outcome(response.content.decode())
    assert "<script>" not in response.content.decode()
    assert not CheckIn.objects.exists()


def test_an_empty_code_is_a_form_error(client, conference, door, door_staff):
    client.force_login(door_staff)

    response = client.post(desk_url(conference, door), {"token": ""})

    assert response.status_code == 400
    assert "Type or scan the ticket code." in response.content.decode()


def test_search_then_one_tap_checks_in_without_script(client, conference, door, door_staff, attendee):
    RegistrationFactory(conference=conference, given_name="Marcel·la", family_name="Puig")
    client.force_login(door_staff)

    found = client.get(desk_url(conference, door), {"q": "bieńk KLASTER"}).content.decode()
    tapped = client.post(desk_url(conference, door), {"number": attendee.number})

    assert "Elżbieta Bieńkowska" in found
    assert "Marcel·la" not in found
    assert f'name="number" value="{attendee.number}"' in found
    assert tapped.status_code == 200
    assert CheckIn.objects.get().registration == attendee
    assert "Checked in at" in client.get(desk_url(conference, door), {"q": str(attendee.number)}).content.decode()


@pytest.mark.parametrize("number", ["777", "0", "x", ""])
def test_a_tap_on_a_number_not_of_this_conference_is_refused(client, conference, door, door_staff, number):
    RegistrationFactory(conference=ConferenceFactory(), number=777)
    client.force_login(door_staff)

    response = client.post(desk_url(conference, door), {"number": number})

    assert response.status_code == 400
    assert "Not registered: no registration has this number." in outcome(response.content.decode())
    assert not CheckIn.objects.exists()


def test_a_waitlisted_person_found_by_search_has_no_check_in_button(client, conference, door, door_staff):
    waiting = RegistrationFactory(conference=conference, status=Registration.Status.WAITLISTED, family_name="Wait")
    client.force_login(door_staff)

    found = client.get(desk_url(conference, door), {"q": "Wait"}).content.decode()
    tapped = client.post(desk_url(conference, door), {"number": waiting.number})

    assert "On the waiting list" in found
    assert f'value="{waiting.number}"' not in found
    assert tapped.status_code == 400
    assert "(registration status: On the waiting list)" in outcome(tapped.content.decode())
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("count", [1, 30])
def test_a_search_takes_the_same_queries_for_1_and_30_matches(
    client, conference, door, door_staff, django_assert_num_queries, count
):
    pre_event = PreEventFactory(conference=conference)
    for registration in RegistrationFactory.create_batch(count, conference=conference):
        BookingFactory(registration=registration, session=pre_event)
        services.check_in(registration, door=door, actor=door_staff)
    client.force_login(door_staff)

    # user, team permission, conference, the matches with their check-ins and bookings
    # that day (3), the latest check-ins (the session comes from the cache), whether the
    # conference offers meetings (for its navigation; then kept a minute)
    with django_assert_num_queries(8):
        response = client.get(desk_url(conference, door), {"q": "Bieńkowska"})

    assert response.content.decode().count("Checked in at") == min(count, 20)


def test_the_door_page_lets_the_camera_in_and_nothing_else(client, conference, door, door_staff):
    client.force_login(door_staff)

    response = client.get(desk_url(conference, door))

    assert "camera=(self)" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert "<script src=" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_undo_within_a_minute_from_the_desk(client, conference, door, door_staff, attendee):
    check_in = services.check_in(attendee, door=door, actor=door_staff)
    client.force_login(door_staff)

    response = client.post(
        reverse("checkin:undo", kwargs={"slug": conference.slug, "door": door.key}), {"check_in": check_in.pk}
    )

    assert response.status_code == 302
    assert not CheckIn.objects.valid().exists()
    assert "Check-in undone" in client.get(response["Location"]).content.decode()


def test_undo_of_another_conference_s_check_in_finds_nothing(client, conference, door, door_staff):
    elsewhere = RegistrationFactory(conference=ConferenceFactory(start_date=conference.start_date))
    check_in = services.check_in(elsewhere, door=door, actor=door_staff)
    client.force_login(door_staff)

    response = client.post(
        reverse("checkin:undo", kwargs={"slug": conference.slug, "door": door.key}), {"check_in": check_in.pk}
    )

    assert response.status_code == 404
    assert CheckIn.objects.valid().get() == check_in


def test_sync_answers_each_scan_and_a_replay_changes_nothing(client, conference, door, door_staff, attendee):
    token = services.ensure_ticket(attendee).token
    client.force_login(door_staff)
    body = json.dumps({"scans": [{"nonce": "abc", "token": token, "door": door.key}]})
    url = reverse("checkin:sync", kwargs={"slug": conference.slug})

    first = client.post(url, body, content_type="application/json").json()
    second = client.post(url, body, content_type="application/json").json()

    assert first["results"][0]["code"] == "checked_in"
    assert first["results"][0]["name"] == "Elżbieta Bieńkowska"
    assert second["results"][0]["replayed"] is True
    assert CheckIn.objects.count() == 1
    assert OfflineScan.objects.count() == 1


@pytest.mark.parametrize("body", ["not json", "[]", '{"scans": 3}', '{"scans": [1]}', '{"other": []}'])
def test_sync_refuses_what_is_not_a_batch(client, conference, door_staff, body):
    client.force_login(door_staff)

    response = client.post(
        reverse("checkin:sync", kwargs={"slug": conference.slug}), body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "error" in response.json()


def test_sync_refuses_a_batch_too_large(client, conference, door_staff):
    client.force_login(door_staff)
    scans = [{"nonce": str(n), "token": "x"} for n in range(501)]

    response = client.post(
        reverse("checkin:sync", kwargs={"slug": conference.slug}),
        json.dumps({"scans": scans}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert not OfflineScan.objects.exists()


@pytest.mark.parametrize("name", ["doors", "desk", "badges"])
def test_staff_of_another_conference_or_without_the_permission_are_refused(client, conference, door, attendee, name):
    kwargs = {"slug": conference.slug, "door": door.key} if name == "desk" else {"slug": conference.slug}
    elsewhere = VerifiedUserFactory()
    TeamFactory(conferences=[ConferenceFactory()], members=[elsewhere], can_check_in=True)
    exporter = VerifiedUserFactory()
    TeamFactory(conferences=[conference], members=[exporter], can_export_attendees=True)

    for user in [elsewhere, exporter, StaffFactory(can_export=True)]:
        client.force_login(user)
        assert client.get(reverse(f"checkin:{name}", kwargs=kwargs)).status_code == 403
    client.force_login(exporter)
    token = services.ensure_ticket(attendee).token
    assert client.post(desk_url(conference, door), {"token": token}).status_code == 403
    sync = client.post(
        reverse("checkin:sync", kwargs={"slug": conference.slug}),
        json.dumps({"scans": [{"nonce": "n", "token": token, "door": door.key}]}),
        content_type="application/json",
    )
    assert sync.status_code == 403
    assert not CheckIn.objects.exists()
    assert not OfflineScan.objects.exists()


def test_the_door_list_shows_the_figures_of_each_door(client, conference, door, door_staff, attendee):
    pre_event = PreEventFactory(conference=conference, title="Smart specialisation")
    BookingFactory(registration=attendee, session=pre_event)
    RegistrationFactory(conference=conference)
    services.check_in(attendee, door=door, actor=door_staff)
    client.force_login(door_staff)

    content = client.get(reverse("checkin:doors", kwargs={"slug": conference.slug})).content.decode()

    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", content, re.S)
    cells = [re.findall(r'<td class="number">(\d+)</td>', row) for row in rows]
    assert cells == [["2", "1", "1"], ["2", "0", "2"], ["1", "0", "1"]]
    assert "Smart specialisation" in rows[2]


def test_the_dashboard_shows_the_check_in_figures(client, conference, door, door_staff, attendee):
    services.check_in(attendee, door=door, actor=door_staff)
    client.force_login(StaffFactory())

    content = client.get(reverse("registration:staff_dashboard", kwargs={"slug": conference.slug})).content.decode()

    section = content[content.index('id="check-in"') :]
    assert re.search(r'<td class="number">1</td>\s*<td class="number">1</td>\s*<td class="number">0</td>', section)


def test_the_ticket_page_shows_the_qr_code_of_one_s_own_ticket(client, conference, attendee):
    client.force_login(attendee.user)

    mine = client.get(reverse("registration:mine", kwargs={"slug": conference.slug})).content.decode()
    content = client.get(reverse("checkin:ticket", kwargs={"slug": conference.slug})).content.decode()

    token = attendee.ticket.token
    assert reverse("checkin:ticket", kwargs={"slug": conference.slug}) in mine
    assert f'<code id="ticket-token" class="ticket-token">{token}</code>' in content
    assert '<svg role="img" viewBox=' in content
    assert "<title>QR code of your ticket</title>" in content


@pytest.mark.parametrize("status", [Registration.Status.WAITLISTED, Registration.Status.CANCELLED])
def test_a_registration_that_is_not_confirmed_has_no_ticket_page(client, conference, status):
    registration = RegistrationFactory(conference=conference, status=status, user=VerifiedUserFactory())
    client.force_login(registration.user)

    mine = client.get(reverse("registration:mine", kwargs={"slug": conference.slug})).content.decode()
    response = client.get(reverse("checkin:ticket", kwargs={"slug": conference.slug}))

    assert response.status_code == 404
    assert reverse("checkin:ticket", kwargs={"slug": conference.slug}) not in mine


def past_conference():
    start = timezone.localdate() - dt.timedelta(days=10)
    return ConferenceFactory(
        start_date=start,
        registration_opens=timezone.now() - dt.timedelta(days=60),
        registration_closes=timezone.now() - dt.timedelta(days=11),
    )


def test_the_certificate_is_offered_after_the_event_to_those_checked_in(client, door_staff):
    conference = past_conference()
    TeamFactory(conferences=[conference], members=[door_staff], can_check_in=True)
    came = RegistrationFactory(conference=conference, user=VerifiedUserFactory())
    stayed_away = RegistrationFactory(conference=conference, user=VerifiedUserFactory())
    CheckIn.objects.create(registration=came, day=conference.start_date, checked_in_by=door_staff)
    url = reverse("checkin:certificate", kwargs={"slug": conference.slug})

    client.force_login(came.user)
    mine = client.get(reverse("registration:mine", kwargs={"slug": conference.slug})).content.decode()
    pdf = client.get(url)
    client.force_login(stayed_away.user)
    refused = client.get(url)

    assert url in mine
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert refused.status_code == 404


def test_no_certificate_before_the_event_ends(client, conference, door, door_staff, attendee):
    services.check_in(attendee, door=door, actor=door_staff)
    client.force_login(attendee.user)

    assert client.get(reverse("checkin:certificate", kwargs={"slug": conference.slug})).status_code == 404


def test_badges_for_everyone_then_only_the_newcomers(client, conference, door_staff, attendee):
    client.force_login(door_staff)
    url = reverse("checkin:badges", kwargs={"slug": conference.slug})

    everyone = client.post(url, {"who": "all", "layout": "a4"})
    RegistrationFactory(conference=conference, status_changed_at=timezone.now() + dt.timedelta(seconds=1))
    newcomers = client.post(url, {"who": "new", "layout": "a6"})

    assert everyone["Content-Type"] == "application/pdf"
    assert [p.badges for p in BadgePrint.objects.order_by("printed_at")] == [1, 1]
    assert newcomers.content.startswith(b"%PDF")


def test_a_badge_for_one_unknown_number_is_a_form_error(client, conference, door_staff):
    client.force_login(door_staff)

    response = client.post(
        reverse("checkin:badges", kwargs={"slug": conference.slug}), {"who": "one", "number": 999, "layout": "a6"}
    )
    empty = client.post(reverse("checkin:badges", kwargs={"slug": conference.slug}), {"who": "one", "layout": "a6"})

    assert response.status_code == 400
    assert "No confirmed registration has this number." in response.content.decode()
    assert empty.status_code == 400
    assert "Type the registration number" in empty.content.decode()
    assert not BadgePrint.objects.exists()


def test_a_large_printing_is_built_by_the_workers_in_parts(client, conference, door_staff, monkeypatch):
    monkeypatch.setattr(services, "BADGES_AT_ONCE", 2)
    monkeypatch.setattr(services, "BADGES_PER_PART", 2)
    people = [RegistrationFactory(conference=conference, family_name=f"Person {n}") for n in range(5)]
    client.force_login(door_staff)

    response = client.post(reverse("checkin:badges", kwargs={"slug": conference.slug}), {"who": "all", "layout": "a4"})
    run = BadgeRun.objects.get()
    waiting = client.get(response["Location"]).content.decode()
    for index in [0, 1, 2, 2]:
        tasks.build_badge_part(run_id=run.pk, index=index)
    done = client.get(response["Location"]).content.decode()
    last = client.get(reverse("checkin:badge_part", kwargs={"slug": conference.slug, "run": run.uuid, "index": 2}))

    assert response["Location"] == reverse("checkin:badge_run", kwargs={"slug": conference.slug, "run": run.uuid})
    assert run.registration_ids == [p.pk for p in sorted(people, key=lambda p: p.family_name)]
    assert "0 of 3 parts ready (5 badges in all)." in waiting
    assert 'data-refresh="5"' in waiting
    assert "3 of 3 parts ready" in done
    assert "data-refresh" not in done
    assert last["Content-Type"] == "application/pdf"
    assert "Person 4" in PdfReader(BytesIO(last.content)).pages[0].extract_text()
    assert BadgeRunPart.objects.count() == 3
    assert BadgePrint.objects.get().badges == 5


def test_another_conference_s_staff_cannot_read_a_badge_run(client, conference, door_staff):
    run = BadgeRun.objects.create(conference=conference, layout="a6", registration_ids=[1], part_size=1)
    BadgeRunPart.objects.create(run=run, index=0, content=b"%PDF-1.4")
    other = ConferenceFactory()
    elsewhere = VerifiedUserFactory()
    TeamFactory(conferences=[other], members=[elsewhere], can_check_in=True)
    client.force_login(elsewhere)

    mine = client.get(reverse("checkin:badge_part", kwargs={"slug": conference.slug, "run": run.uuid, "index": 0}))
    crafted = client.get(reverse("checkin:badge_part", kwargs={"slug": other.slug, "run": run.uuid, "index": 0}))

    assert mine.status_code == 403
    assert crafted.status_code == 404


def test_the_certificate_link_is_emailed_on_request_once_a_day(client, door_staff):
    conference = past_conference()
    came = RegistrationFactory(conference=conference, user=VerifiedUserFactory(), language="es")
    CheckIn.objects.create(registration=came, day=conference.start_date, checked_in_by=door_staff)
    url = reverse("checkin:certificate_email", kwargs={"slug": conference.slug})
    client.force_login(came.user)

    mine = client.get(reverse("registration:mine", kwargs={"slug": conference.slug})).content.decode()
    first = client.post(url)
    again = client.post(url)

    assert f'action="{url}"' in mine
    assert first.status_code == again.status_code == 302
    email = OutgoingEmail.objects.get(kind="certificate")
    assert email.to == came.user.email
    assert email.subject.endswith("Su certificado de asistencia")
    assert f"/{conference.slug}/my-registration/certificate.pdf" in email.body_text


def test_no_certificate_email_for_one_who_never_came(client):
    conference = past_conference()
    stayed_away = RegistrationFactory(conference=conference, user=VerifiedUserFactory())
    client.force_login(stayed_away.user)

    response = client.post(reverse("checkin:certificate_email", kwargs={"slug": conference.slug}))

    assert response.status_code == 404
    assert not OutgoingEmail.objects.exists()


@pytest.mark.parametrize("count", [1, 12])
def test_the_door_list_takes_the_same_queries_for_1_and_12_sessions(
    client, conference, door, door_staff, django_assert_num_queries, count
):
    for pre_event in PreEventFactory.create_batch(count, conference=conference):
        registration = RegistrationFactory(conference=conference)
        BookingFactory(registration=registration, session=pre_event)
        services.check_in(registration, door=door, actor=door_staff)
    client.force_login(door_staff)

    # user, team permission, conference, then the figures: sessions, confirmed, seats,
    # check-ins, and whether the conference offers meetings (for its navigation)
    with django_assert_num_queries(8):
        response = client.get(reverse("checkin:doors", kwargs={"slug": conference.slug}))

    assert response.content.decode().count("checkin/session-") == count


@pytest.mark.parametrize("count", [1, 25])
def test_a_session_door_lists_its_seats_in_the_same_queries_for_1_and_25(
    client, conference, door_staff, django_assert_num_queries, count
):
    pre_event = PreEventFactory(conference=conference, capacity=30)
    seated = [BookingFactory(session=pre_event, registration__conference=conference).registration for _ in range(count)]
    RegistrationFactory(conference=conference, family_name="Not seated")
    door = door_for(conference, f"session-{pre_event.code}")
    services.check_in(seated[0], door=door, actor=door_staff)
    client.force_login(door_staff)

    # user, team permission, conference, the session, the door list with its check-ins and
    # bookings that day (3), the latest check-ins, whether the conference offers meetings (for
    # its navigation); no search, none asked for
    with django_assert_num_queries(9):
        content = client.get(desk_url(conference, door)).content.decode()

    listed = content[content.index('id="door-list-title"') : content.index('id="recent-title"')]
    assert f"Door list: {count} seat" in listed
    assert listed.count('name="number"') == count - 1
    assert "Not seated" not in listed
