from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from conference import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
    path("", include("agenda.urls")),
    path("", include("registration.urls")),
]

handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
