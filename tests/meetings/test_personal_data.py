"""The meetings' part of a person's own data and of deleting their account (accounts.personal_data)."""

import pytest

from accounts import personal_data
from meetings import services
from meetings.models import MeetingRequest, Profile
from outbox.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def test_own_data_holds_the_profile_and_the_requests(conference, block, ela, marcel):
    Profile.objects.filter(pk=ela.pk).update(offer="Digital twins for SMEs")
    services.send_request(ela, block=block, recipient=marcel, message="Hola, Marcel·la!")

    (profile,) = personal_data.personal_data(ela.registration.user)["meetings"]

    assert (profile["offer"], profile["opted_in"]) == ("Digital twins for SMEs", True)
    assert profile["requests"][0]["message"] == "Hola, Marcel·la!"
    assert profile["requests"][0]["sent"] is True
    assert (profile["status"], profile["refusal_reason"]) == ("approved", "")


def test_own_data_holds_the_approval_status_and_the_reason_of_a_refusal(conference, ela):
    Profile.objects.filter(pk=ela.pk).update(status="pending")
    services.refuse_profile(ela, reason="Tell us what you offer.")

    (profile,) = personal_data.personal_data(ela.registration.user)["meetings"]

    assert (profile["status"], profile["refusal_reason"]) == ("refused", "Tell us what you offer.")


def test_deleting_the_account_opts_out_tells_the_other_side_and_erases_the_texts(conference, block, ela, marcel):
    Profile.objects.filter(pk=ela.pk).update(offer="Digital twins", seek="Partners in Łódź", languages="pl, en")
    request = services.send_request(ela, block=block, recipient=marcel, message="Hola, Marcel·la!")
    told_before = OutgoingEmail.objects.filter(to="marcella@example.es").count()

    personal_data.delete_account(ela.registration.user)

    profile = Profile.objects.get(pk=ela.pk)
    assert (profile.opted_in, profile.offer, profile.seek, profile.languages) == (False, "", "", "")
    request.refresh_from_db()
    assert (request.status, request.message) == (MeetingRequest.Status.CANCELLED, "")
    assert OutgoingEmail.objects.filter(to="marcella@example.es").count() == told_before + 1
    assert profile.registration.user is None


def test_deleting_the_account_erases_the_organisers_reason_too(conference, ela):
    Profile.objects.filter(pk=ela.pk).update(status="pending")
    services.refuse_profile(ela, reason="Tell Elżbieta Bieńkowska what we miss.")

    personal_data.delete_account(ela.registration.user)

    assert Profile.objects.get(pk=ela.pk).refusal_reason == ""
