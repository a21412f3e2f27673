"""Emails written when they are sent: the registry of renderers by kind.

The outbox imports none of the apps that write emails, so each app registers, in its
AppConfig.ready(), a renderer for the kinds it queues with outbox.emails.queue_rendered_email.
Such a row holds only a small JSON context (ids, numbers, short strings); the worker
calls the kind's renderer, in the row's language, just before sending. Pictures the HTML
shows (InlineImage) exist only then: they go out with the message and are never kept. Two reasons:
the writing transaction stays short (rendering bodies and calendars while rows are
locked holds everyone else up), and an email whose link grants access (password reset,
address verification) never has that link stored: the renderer makes it anew, and a
`confidential` kind keeps its bodies out of the row and the admin for good.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from outbox.models import OutgoingEmail


@dataclass(frozen=True)
class InlineImage:
    """A picture the HTML body shows by `<img src="cid:{cid}">` (a ticket's QR code). Made
    by the renderer at send time and never saved: its bytes may carry what the row must
    not (a ticket's token)."""

    cid: str
    content: bytes
    filename: str
    # What the picture shows, for those who do not see it (its alt text).
    alt: str
    mimetype: str = "image/png"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str = ""
    # [{"filename": ..., "content": ..., "mimetype": ...}], text content only (calendar files).
    attachments: list[dict] = field(default_factory=list)
    images: tuple[InlineImage, ...] = ()


class NothingToSend(Exception):
    """Raised by a renderer when what the email was about is gone (a deleted account, an
    address removed): the email is marked failed with this message, and not retried."""


Renderer = Callable[["OutgoingEmail"], RenderedEmail]


@dataclass(frozen=True)
class _Entry:
    render: Renderer
    confidential: bool


_registry: dict[str, _Entry] = {}


def register(kinds: list[str] | tuple[str, ...], render: Renderer, *, confidential: bool = False) -> None:
    """Render the emails of `kinds` with `render(email) -> RenderedEmail` at send time; it
    runs with the email's language active and may raise NothingToSend. A `confidential`
    kind's bodies are never saved nor shown in the admin (only its subject is kept)."""
    for kind in kinds:
        if kind in _registry and _registry[kind].render is not render:
            raise ValueError(f"Another renderer is registered for {kind} emails.")
        _registry[kind] = _Entry(render, confidential)


def is_registered(kind: str) -> bool:
    return kind in _registry


def is_confidential(kind: str) -> bool:
    entry = _registry.get(kind)
    return entry is not None and entry.confidential


def make_cid(name: str) -> str:
    """A Content-ID for a picture of one message, unique the world over (RFC 2392)."""
    return make_msgid(name, domain=parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost")[1:-1]


def render(email: "OutgoingEmail") -> RenderedEmail:
    """The email written by its kind's renderer (the caller activates its language)."""
    return _registry[email.kind].render(email)
