"""Figures other apps add to the staff dashboard (`/<slug>/staff/`) without registration
importing them: an app registers a panel in its AppConfig.ready() with
`register_panel(anchor, title=..., render=...)`; the dashboard shows the panels after its
own figures, in the order of registering, each linked from the page's contents by its anchor.

`render(conference)` returns the HTML of one `<section id="{anchor}" class="figure ...">`,
rendered by the app's own template, in a fixed number of queries however many people,
polls or doors there are (the dashboard's query count is asserted)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

from agenda.models import Conference


@dataclass(frozen=True)
class Panel:
    anchor: str
    title: str | Promise
    render: Callable[[Conference], str]


_panels: dict[str, Panel] = {}


def register_panel(anchor: str, *, title: str | Promise, render: Callable[[Conference], str]) -> None:
    """Add a panel under `anchor` (its section's id); once per anchor."""
    if anchor in _panels and _panels[anchor] != Panel(anchor, title, render):
        raise ValueError(f"A dashboard panel with the anchor {anchor!r} is registered already.")
    _panels[anchor] = Panel(anchor, title, render)


def panels(conference: Conference) -> list[tuple[Panel, str]]:
    """Each panel with its HTML for `conference`."""
    return [(panel, panel.render(conference)) for panel in _panels.values()]
