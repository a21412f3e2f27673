"""Uploaded photos: only image types browsers show inline, and never served by Django in production."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from agenda.models import Speaker
from tests.factories import SpeakerFactory

pytestmark = pytest.mark.django_db

# A 1x1 PNG: Pillow reads it whatever the file is called.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.mark.parametrize("name", ["portrait.pdf", "portrait.ps", "portrait.eps", "portrait.svg", "portrait.html"])
def test_speaker_photo_under_another_type_is_refused(name):
    speaker = SpeakerFactory.build(conference=SpeakerFactory().conference, photo=SimpleUploadedFile(name, PNG))

    with pytest.raises(ValidationError) as refused:
        speaker.full_clean()

    assert "photo" in refused.value.message_dict


@pytest.mark.parametrize("name", ["portrait.jpg", "portrait.JPEG", "portrait.png", "portrait.webp"])
def test_speaker_photo_as_an_image_passes(name):
    photo = Speaker._meta.get_field("photo")

    photo.run_validators(photo.to_python(SimpleUploadedFile(name, PNG)))


def test_media_is_not_served_by_django_in_production(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "speakers").mkdir()
    (tmp_path / "speakers" / "puig.png").write_bytes(PNG)

    response = client.get("/media/speakers/puig.png")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
