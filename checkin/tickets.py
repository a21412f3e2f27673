"""The QR code of a ticket: what the phone at the door scans."""

import io

import segno


def qr_code(token: str) -> segno.QRCode:
    # Medium error correction survives a creased or smudged print and stays a small symbol.
    return segno.make(token, error="m", micro=False)


def qr_svg(token: str, *, title: str) -> str:
    """The QR code of `token` as inline SVG that scales to its box (a viewBox, no size), with
    `title` as its text alternative. Safe to put in a page as is: segno escapes the title
    and the token is URL-safe base64."""
    svg = qr_code(token).svg_inline(scale=1, border=4, omitsize=True, title=title, svgclass="qr", lineclass="")
    # role="img" makes screen readers announce the title as the picture's name.
    return svg.replace("<svg ", '<svg role="img" ', 1)


def qr_png(token: str) -> bytes:
    """The QR code of `token` as a PNG (segno writes it without an imaging library), for
    emails: mail clients show PNG but not SVG. 8 pixels a module: about 300 pixels wide."""
    buffer = io.BytesIO()
    qr_code(token).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()
