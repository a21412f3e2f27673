"""The PDFs read back: the text extracted from them is the names as typed, in any script,
and the fonts that set them are embedded."""

import datetime as dt
from io import BytesIO

import pytest
from pypdf import PdfReader

from checkin import pdf, services
from checkin.models import CertificateSettings, CheckIn, Ticket
from checkin.selectors import attendance
from checkin.tickets import qr_code
from tests.factories import BookingFactory, ConferenceFactory, PreEventFactory, RegistrationFactory

pytestmark = pytest.mark.django_db
NAMES = [("Elżbieta", "Bieńkowska"), ("Marcel·la", "Puig i Ferrer"), ("Σταύρος", "Παπαδόπουλος"), ("Юлия", "Щербакова")]


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def embedded_fonts(content: bytes) -> set[str]:
    """The base names of the fonts whose file is inside the PDF."""
    names = set()
    for page in PdfReader(BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor and any(key in descriptor.get_object() for key in ("/FontFile", "/FontFile2")):
                    names.add(str(font["/BaseFont"]).split("+")[-1])
    return names


def registrations(conference, **overrides):
    made = [
        RegistrationFactory(conference=conference, given_name=given, family_name=family, **overrides)
        for given, family in NAMES
    ]
    services.ensure_tickets(made)
    return made


@pytest.mark.parametrize("layout", pdf.LAYOUTS)
def test_badges_print_names_in_any_script_with_embedded_fonts(layout):
    conference = ConferenceFactory(name="GROW your REGIOn")
    people = registrations(conference, organisation="Klaster Obróbki Metali", country="GR")

    content = pdf.badges(people, layout=layout, conference=conference)

    text = text_of(content)
    for given, family in NAMES:
        assert given in text
        assert family in text
    assert "Klaster Obróbki Metali" in text
    assert "Greece" in text
    assert "PARTICIPANT" in text
    assert embedded_fonts(content) >= {"DejaVuSans", "DejaVuSans-Bold"}
    assert len(PdfReader(BytesIO(content)).pages) == (4 if layout == "a6" else 1)


def test_a_badge_shows_the_role_and_the_no_photos_mark_only_for_those_who_asked():
    conference = ConferenceFactory()
    speaker, other = registrations(conference)[:2]
    speaker.photo_opt_out = True
    Ticket.objects.filter(registration=speaker).update(role=Ticket.Role.SPEAKER)
    speaker.ticket.refresh_from_db()

    text = text_of(pdf.badges([speaker], layout="a6", conference=conference))
    other_text = text_of(pdf.badges([other], layout="a6", conference=conference))

    assert "SPEAKER" in text
    assert "No photos" in text
    assert "No photos" not in other_text


def test_badges_of_nobody_say_so():
    conference = ConferenceFactory()

    assert "No badges to print." in text_of(pdf.badges([], layout="a4", conference=conference))


def test_the_certificate_lists_the_days_and_pre_events_attended_and_the_signatory():
    conference = ConferenceFactory(
        name="GROW your REGIOn", start_date=dt.date(2017, 11, 8), registration_opens=None, registration_closes=None
    )
    attendee = registrations(conference)[2]
    pre_event = PreEventFactory(conference=conference, title="Smart specialisation & clusters")
    BookingFactory(registration=attendee, session=pre_event)
    CheckIn.objects.create(registration=attendee, day=dt.date(2017, 11, 8))
    CheckIn.objects.create(registration=attendee, day=dt.date(2017, 11, 8), session=pre_event)
    CheckIn.objects.create(registration=attendee, day=dt.date(2017, 11, 9), undone_at=dt.datetime.now(dt.UTC))
    CertificateSettings.objects.create(
        conference=conference,
        signatory_name="Ulla Engelmann",
        signatory_title="Head of Unit, DG GROW",
        text="Clusters <b>and</b> regions working together.",
    )
    days, sessions = attendance(attendee)
    content = pdf.certificate(attendee, days=days, sessions=sessions, settings=conference.certificate_settings)

    text = " ".join(text_of(content).split())
    assert "Σταύρος Παπαδόπουλος" in text
    assert "• 8 November 2017" in text
    assert "9 November 2017" not in text.split("Days attended:")[1]
    assert "Smart specialisation & clusters" in text
    assert "Clusters <b>and</b> regions working together." in text
    assert "Ulla Engelmann" in text
    assert "Head of Unit, DG GROW" in text
    assert embedded_fonts(content) >= {"DejaVuSans", "DejaVuSans-Bold"}


def test_the_badge_carries_the_qr_code_of_the_ticket():
    conference = ConferenceFactory()
    person = registrations(conference)[0]

    content = pdf.badges([person], layout="a6", conference=conference)

    (image,) = PdfReader(BytesIO(content)).pages[0].images
    pixels = image.image.convert("1")
    expected = list(qr_code(person.ticket.token).matrix_iter(border=2))
    assert pixels.size == (len(expected), len(expected))
    assert [[pixels.getpixel((x, y)) == 0 for x in range(pixels.width)] for y in range(pixels.height)] == [
        [bool(dark) for dark in row] for row in expected
    ]
