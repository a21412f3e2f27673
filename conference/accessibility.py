"""The accessibility statement, in the form of the EU's model (Implementing Decision (EU)
2018/1523 under Directive (EU) 2016/2102), and the form to report a problem, which emails
the organisers through the outbox."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from conference.ratelimit import limit_posts
from conference.validators import validate_name, validate_plain_text
from outbox.emails import compose, queue_email
from outbox.models import OutgoingEmail

# When the statement was prepared and last reviewed against the site: update both with each review.
PREPARED_ON = dt.date(2026, 11, 22)
REVIEWED_ON = dt.date(2026, 11, 22)
# The longest User-Agent passed on to the organisers.
MAX_BROWSER_LENGTH = 300


@require_safe
def statement(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "conference/accessibility_statement.html",
        {
            "prepared_on": PREPARED_ON,
            "reviewed_on": REVIEWED_ON,
            "site_url": settings.SITE_URL,
            "contact_email": settings.ACCESSIBILITY_EMAIL,
        },
    )


@limit_posts("accessibility_report")
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The form, filled in with the page it was opened from (?page=) and a logged-in user's address."""
    initial = {"page": request.GET.get("page", "")[:500]}
    if request.user.is_authenticated:
        initial["email"] = request.user.email
    form = AccessibilityReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        report_accessibility_problem(
            **form.cleaned_data,
            language=get_language(),
            browser=request.headers.get("User-Agent", "")[:MAX_BROWSER_LENGTH],
        )
        messages.success(
            request,
            _("Thank you. Your report has gone to the organisers, who will reply to %(email)s.")
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("accessibility")
    return render(request, "conference/accessibility_report.html", {"form": form}, status=400 if form.errors else 200)


class AccessibilityReportForm(forms.Form):
    """A problem someone met with the site's accessibility, for the organisers to answer."""

    problem = forms.CharField(
        label=gettext_lazy("What is the problem?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "What you were trying to do, what happened instead, and the browser and any assistive technology "
            "you use, such as a screen reader or a magnifier."
        ),
        error_messages={"required": gettext_lazy("Describe the problem you met.")},
    )
    page = forms.CharField(
        label=gettext_lazy("Address of the page (optional)"),
        max_length=500,
        required=False,
        validators=[validate_plain_text],
        help_text=gettext_lazy("Where you met the problem, if it was on one page."),
    )
    name = forms.CharField(
        label=gettext_lazy("Your name (optional)"),
        max_length=200,
        required=False,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("Your email address"),
        help_text=gettext_lazy("We reply to this address, and use it for nothing else."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": gettext_lazy("Enter your email address, so that we can reply."),
            "invalid": gettext_lazy("Enter an email address like name@example.org."),
        },
    )


def report_accessibility_problem(
    *, problem: str, email: str, name: str = "", page: str = "", language: str, browser: str
) -> OutgoingEmail:
    """Queue an email to the organisers (settings.ACCESSIBILITY_EMAIL) with a problem someone
    met with the site's accessibility: in the site's original language, which organisers
    read, with the reporter's address to reply to. `language` is the one the reporter read
    the site in, `browser` their User-Agent. Takes no lock."""
    context = {
        "problem": problem,
        "email": email,
        "name": name,
        # A path on this site becomes a link the organisers can follow.
        "page": settings.SITE_URL + page if page.startswith("/") and not page.startswith("//") else page,
        "language": translation.get_language_info(language)["name"],
        "browser": browser,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Accessibility problem reported")
        # Plain text only: a stranger's words, sent from the site's own address, never become
        # links (the HTML layout makes every address in the text clickable).
        body_text, _body_html = compose(
            heading=subject,
            content=render_to_string("emails/conference/accessibility_report_message.txt", context),
        )
    email_row = queue_email(
        to=settings.ACCESSIBILITY_EMAIL,
        subject=subject,
        body_text=body_text,
        kind="accessibility_report",
        language=settings.LANGUAGE_CODE,
        reply_to=email,
    )
    assert email_row is not None  # no dedup key, so always queued
    return email_row
