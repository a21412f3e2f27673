"""A team's programme editor in a real browser: the admin offers the upcoming edition alone."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda import demo as agenda_demo
from agenda.models import Session
from registration import demo
from registration.models import User
from tests.conftest import log_in


@pytest.fixture
def editor(transactional_db) -> User:
    agenda_demo.seed_growyourregion(today=timezone.localdate())
    demo.seed_demo_accounts(password="correct horse battery staple", keep_passwords=False)
    return User.objects.get(email=demo.PROGRAMME_EMAIL)


def choose_speaker(page, row: int, typed: str) -> list[str]:
    """Pick a speaker in the inline's autocomplete; returns what it offered for `typed`."""
    page.locator(f"#id_session_speakers-{row}-speaker ~ .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(typed)
    options = page.locator(".select2-results__option:not(.loading-results)")
    expect(options.first).to_contain_text(typed)
    offered = options.all_inner_texts()
    options.first.click()
    return offered


def test_the_programme_editor_adds_a_keynote_with_two_speakers_to_the_upcoming_edition(page, live_server, editor):
    upcoming = editor.teams.get().conferences.get()
    log_in(page, editor, live_server.url)

    page.goto("/admin/agenda/session/add/")

    # The only edition the editor may change is already chosen; the other is not offered.
    expect(page).to_have_url(re.compile(rf"\?conference={upcoming.pk}$"))
    conference_options = page.locator("#id_conference option").all_inner_texts()
    assert "GROW your REGIOn 2017" not in conference_options
    page.locator("#id_title_en").fill("Keynote: clusters after 2027")
    page.locator("#id_kind").select_option("keynote")
    day = upcoming.start_date.isoformat()
    for name, time in (("start", "16:00"), ("end", "17:00")):
        page.locator(f"#id_{name}_0").fill(day)
        page.locator(f"#id_{name}_1").fill(time)
    # Both editions have an Ulla Engelmann; the form offers this edition's alone.
    assert choose_speaker(page, 0, "Ulla") == ["Ulla Engelmann"]
    page.locator("#session_speakers-group .add-row a").click()
    assert choose_speaker(page, 1, "Ximo") == ["Ximo Puig"]
    page.locator("input[name=_save]").click()

    expect(page.locator(".messagelist")).to_contain_text("Keynote: clusters after 2027")
    keynote = Session.objects.get(title="Keynote: clusters after 2027")
    assert keynote.conference == upcoming
    speakers = [appearance.speaker for appearance in keynote.session_speakers.order_by("position")]
    assert [speaker.name for speaker in speakers] == ["Ulla Engelmann", "Ximo Puig"]
    assert {speaker.conference_id for speaker in speakers} == {upcoming.pk}
