from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from conference import views
from registration import accessibility
from registration import views as registration_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", registration_views.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}, name="media"),
    # Before the conference pages: "accessibility" is a reserved word, never a conference.
    path("accessibility/", accessibility.statement, name="accessibility"),
    path("accessibility/report/", accessibility.report, name="accessibility_report"),
    path("", include("agenda.urls")),
    path("", include("registration.urls")),
    path("", include("meetings.urls")),
]

handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
