"""The accessibility statement, in the form of the EU's model (Implementing Decision (EU)
2018/1523 under Directive (EU) 2016/2102), and the form to report a problem, which emails
the organisers through the outbox."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from registration import services
from registration.forms import AccessibilityReportForm
from registration.views import limit_posts

# When the statement was prepared and last reviewed against the site: update both with each review.
PREPARED_ON = dt.date(2026, 11, 22)
REVIEWED_ON = dt.date(2026, 11, 22)
# The longest User-Agent passed on to the organisers.
MAX_BROWSER_LENGTH = 300


@require_safe
def statement(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registration/accessibility_statement.html",
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
        services.report_accessibility_problem(
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
    return render(request, "registration/accessibility_report.html", {"form": form}, status=400 if form.errors else 200)
