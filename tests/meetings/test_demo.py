import pytest
from django.utils import timezone

from agenda import demo as agenda_demo
from meetings import demo, services
from meetings.models import MeetingBlock, Profile, Sector, Slot

pytestmark = pytest.mark.django_db


def counts() -> tuple:
    return (MeetingBlock.objects.count(), Slot.objects.count(), Profile.objects.count(), Sector.objects.count())


def test_both_editions_bilateral_sessions_become_blocks_with_demo_participants_once():
    conferences = agenda_demo.seed_growyourregion(today=timezone.localdate())

    demo.seed_meetings(conferences)
    first = counts()
    demo.seed_meetings(conferences)

    assert counts() == first
    _past, upcoming = conferences
    for conference in conferences:
        blocks = MeetingBlock.objects.filter(session__conference=conference)
        assert sorted(blocks.values_list("session__code", flat=True)) == ["bilaterals-1", "bilaterals-2"]
        names = [profile.registration.full_name for profile in Profile.objects.listed(conference)]
        assert {"Marcel·la Puig", "Elżbieta Bieńkowska", "Søren Öberg", "Marc Lemaître"} <= set(names)
    # The 17:00 session of 20-minute slots: 17:20 is the second.
    first_block = MeetingBlock.objects.get(session__conference=upcoming, session__code="bilaterals-1")
    second = first_block.slots.all()[1]
    assert timezone.localtime(second.start, upcoming.tz).strftime("%H:%M") == "17:20"
    # The upcoming edition takes requests today; 2017's closed long ago.
    ela, marcella = (
        Profile.objects.get(conference=upcoming, registration__family_name=name) for name in ("Bieńkowska", "Puig")
    )
    assert services.send_request(ela, block=first_block, recipient=marcella).pk
