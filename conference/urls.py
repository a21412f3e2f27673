from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from conference import accessibility, views

urlpatterns = [
    # Before the admin's own URLs, which it replaces.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("accounts/teams/join/<str:token>/", accounts_views.join_team, name="team_join"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    # Before the conference pages: "accessibility" is a reserved word, never a conference.
    path("accessibility/", accessibility.statement, name="accessibility"),
    path("accessibility/report/", accessibility.report, name="accessibility_report"),
    path("", include("agenda.urls")),
    path("", include("registration.urls")),
    path("", include("checkin.urls")),
    path("", include("voting.urls")),
    path("", include("meetings.urls")),
]

# Uploaded speaker photos: on a developer's machine (DEBUG) from MEDIA_ROOT; in production the
# web server or object storage serves them, never Django (README, "Running it in production").
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
