from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.models import TeamInvitation
from accounts.teams import PERMISSIONS


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (a cookie for this browser), which also keeps the choice on the
    account of a logged-in user: account emails and their next registration default to it."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.remember_language(request.user, language=language)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def join_team(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link: what the team is, and a button to join it (a POST, so that a
    link previewed by a mail client joins nobody)."""
    invitation = get_object_or_404(TeamInvitation.objects.select_related("team"), token=token)
    try:
        services.check_invitation(invitation, user=request.user)
        if request.method == "POST":
            services.accept_invitation(invitation, user=request.user)
            messages.success(request, _("You have joined the team “%(team)s”.") % {"team": invitation.team.name})
            request.user.refresh_from_db(fields=["is_staff"])
            return redirect("admin:index" if request.user.is_staff else "conference_list")
    except services.InvitationError as error:
        return render(
            request, "accounts/team_join.html", {"invitation": invitation, "error": error.message}, status=400
        )
    team = invitation.team
    permissions = [team._meta.get_field(name).verbose_name for name in PERMISSIONS if getattr(team, name)]
    return render(request, "accounts/team_join.html", {"invitation": invitation, "permissions": permissions})
