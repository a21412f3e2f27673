"""Badges and certificates of attendance as PDF (reportlab).

Text is set in DejaVu Sans, carried in checkin/fonts/ and embedded in every PDF (as a
subset), so names in Latin Extended, Greek and Cyrillic print right on any printer.
"""

import datetime as dt
from collections.abc import Iterable
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import gettext as _
from PIL import Image
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from agenda.models import Conference, Session
from checkin.models import CertificateSettings, Ticket
from checkin.tickets import qr_code
from registration.models import Registration

FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
# A colour per role, dark enough for white text on it (WCAG AA contrast).
ROLE_COLOURS = {
    Ticket.Role.PARTICIPANT: colors.HexColor("#1d4ed8"),
    Ticket.Role.SPEAKER: colors.HexColor("#b91c1c"),
    Ticket.Role.ORGANISER: colors.HexColor("#15803d"),
    Ticket.Role.PRESS: colors.HexColor("#7e22ce"),
}
LAYOUTS = ("a6", "a4")


@cache
def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, FONTS / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, FONTS / "DejaVuSans-Bold.ttf"))


def badges(registrations: Iterable[Registration], *, layout: str, conference: Conference) -> bytes:
    """Badges of the registrations (each with its `ticket`): one A6 page each, or four to an
    A4 sheet, for cutting. Text in the active language."""
    register_fonts()
    buffer = BytesIO()
    page = A6 if layout == "a6" else A4
    canvas = Canvas(buffer, pagesize=page, pageCompression=1)
    canvas.setTitle(_("Badges: %(conference)s") % {"conference": conference.name})
    width, height = A6
    # On A4, the four quarters in reading order; on A6, the page itself.
    slots = [(0, 0)] if layout == "a6" else [(0, height), (width, height), (0, 0), (width, 0)]
    placed = 0
    for registration in registrations:
        if placed and placed % len(slots) == 0:
            canvas.showPage()
        x, y = slots[placed % len(slots)]
        _badge(canvas, registration, conference, x, y, width, height, cut_marks=layout == "a4")
        placed += 1
    if not placed:
        canvas.setFont(REGULAR, 12)
        canvas.drawString(15 * mm, page[1] - 20 * mm, _("No badges to print."))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _badge(canvas: Canvas, registration: Registration, conference: Conference, x, y, width, height, *, cut_marks):
    ticket = registration.ticket
    margin = 8 * mm
    inner = width - 2 * margin
    colour = ROLE_COLOURS[ticket.role]
    canvas.saveState()
    canvas.translate(x, y)
    if cut_marks:
        canvas.setStrokeColor(colors.lightgrey)
        canvas.setLineWidth(0.3)
        canvas.rect(0, 0, width, height)
    # The band with the role, readable from afar.
    band = 16 * mm
    canvas.setFillColor(colour)
    canvas.rect(0, height - band, width, band, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(BOLD, 13)
    canvas.drawCentredString(width / 2, height - band + 5.5 * mm, str(ticket.get_role_display()).upper())
    canvas.setFillColor(colors.black)
    _fitted(canvas, conference.name, REGULAR, 9, width / 2, height - band - 7 * mm, inner)
    # The name, as large as fits.
    top = height - band - 22 * mm
    given = _fitted(canvas, registration.given_name, BOLD, 24, width / 2, top, inner)
    _fitted(canvas, registration.family_name, BOLD, 24, width / 2, top - given * 1.15, inner)
    _fitted(canvas, registration.organisation, REGULAR, 12, width / 2, top - given * 1.15 - 13 * mm, inner)
    _fitted(canvas, str(registration.country.name), REGULAR, 11, width / 2, top - given * 1.15 - 19 * mm, inner)
    size = 30 * mm
    _draw_qr(canvas, ticket.token, margin, margin, size)
    canvas.setFont(REGULAR, 8)
    canvas.drawString(margin + size + 3 * mm, margin + 2 * mm, f"#{registration.number}")
    if registration.photo_opt_out:
        _no_photos(canvas, width - margin, margin)
    canvas.restoreState()


def _fitted(canvas: Canvas, text: str, font: str, size: float, x: float, y: float, width: float) -> float:
    """Draw `text` centred at (x, y), shrunk to fit `width` (down to 6 pt); returns the size used."""
    while size > 6 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    canvas.setFont(font, size)
    canvas.drawCentredString(x, y, text)
    return size


def _draw_qr(canvas: Canvas, token: str, x: float, y: float, size: float) -> None:
    """The QR code as a 1-bit image, one pixel a module, scaled up: a single drawing operation
    (thousands of rectangles would make a large run slow and its file big)."""
    matrix = list(qr_code(token).matrix_iter(border=2))
    image = Image.new("1", (len(matrix), len(matrix)))
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    canvas.drawImage(ImageReader(image), x, y, size, size)


def _no_photos(canvas: Canvas, right: float, bottom: float) -> None:
    """A mark photographers know: a crossed-out camera, with the words."""
    label = _("No photos")
    canvas.setFont(BOLD, 9)
    text_width = pdfmetrics.stringWidth(label, BOLD, 9)
    box_width, box_height = max(text_width + 4 * mm, 22 * mm), 22 * mm
    left = right - box_width
    canvas.setStrokeColor(colors.HexColor("#b91c1c"))
    canvas.setLineWidth(1.5)
    canvas.roundRect(left, bottom, box_width, box_height, 2 * mm)
    centre_x, centre_y = left + box_width / 2, bottom + 13 * mm
    canvas.setFillColor(colors.black)
    canvas.rect(centre_x - 5 * mm, centre_y - 3 * mm, 10 * mm, 6 * mm, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.circle(centre_x, centre_y, 2 * mm, stroke=0, fill=1)
    canvas.line(centre_x - 6 * mm, centre_y - 4 * mm, centre_x + 6 * mm, centre_y + 4 * mm)
    canvas.setFillColor(colors.HexColor("#b91c1c"))
    canvas.drawCentredString(centre_x, bottom + 3 * mm, label)


def certificate(
    registration: Registration,
    *,
    days: list[dt.date],
    sessions: list[Session],
    settings: CertificateSettings | None,
) -> bytes:
    """A certificate that `registration`'s attendee attended the conference on `days` and
    the `sessions`, signed as the organisers set it. Text in the active language."""
    register_fonts()
    conference = registration.conference
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=30 * mm,
        bottomMargin=25 * mm,
        title=_("Certificate of attendance"),
        author=conference.name,
    )
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=11, leading=16)
    heading = ParagraphStyle("heading", parent=body, fontName=BOLD, fontSize=24, leading=30, alignment=1)
    name = ParagraphStyle("name", parent=body, fontName=BOLD, fontSize=22, leading=28, alignment=1)
    centred = ParagraphStyle("centred", parent=body, alignment=1)
    item = ParagraphStyle("item", parent=body, leftIndent=8 * mm, bulletIndent=2 * mm, bulletFontName=REGULAR)

    def text(value: str) -> str:
        return escape(value).replace("\n", "<br/>")

    where = ", ".join(part for part in (conference.venue, conference.city) if part)
    story = [
        Paragraph(text(_("Certificate of attendance")), heading),
        Spacer(0, 12 * mm),
        Paragraph(text(_("This is to certify that")), centred),
        Spacer(0, 4 * mm),
        Paragraph(text(registration.full_name), name),
        Paragraph(text(registration.organisation), centred),
        Spacer(0, 4 * mm),
        Paragraph(
            text(
                _("attended %(conference)s, %(where)s, from %(first)s to %(last)s.")
                % {
                    "conference": conference.name,
                    "where": where,
                    "first": formats.date_format(conference.start_date, "DATE_FORMAT"),
                    "last": formats.date_format(conference.end_date, "DATE_FORMAT"),
                }
            ),
            centred,
        ),
        Spacer(0, 8 * mm),
    ]
    if settings and settings.text:
        story += [Paragraph(text(settings.text), body), Spacer(0, 6 * mm)]
    if days:
        story.append(Paragraph(text(_("Days attended:")), body))
        story += [Paragraph(text(formats.date_format(day, "DATE_FORMAT")), item, bulletText="•") for day in days]
        story.append(Spacer(0, 4 * mm))
    if sessions:
        story.append(Paragraph(text(_("Pre-events attended:")), body))
        story += [Paragraph(text(session.title), item, bulletText="•") for session in sessions]
    story.append(Spacer(0, 20 * mm))
    if settings:
        story.append(Paragraph(text(settings.signatory_name), body))
        if settings.signatory_title:
            story.append(Paragraph(text(settings.signatory_title), body))
    story.append(Paragraph(text(_("For the organisers of %(conference)s") % {"conference": conference.name}), body))
    document.build(story)
    return buffer.getvalue()
