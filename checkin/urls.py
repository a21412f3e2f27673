from django.urls import path

from checkin import views

app_name = "checkin"

urlpatterns = [
    path("<slug:slug>/checkin/", views.door_list, name="doors"),
    path("<slug:slug>/checkin/sync/", views.sync, name="sync"),
    path("<slug:slug>/checkin/badges/", views.badges, name="badges"),
    path("<slug:slug>/checkin/badges/<uuid:run>/", views.badge_run, name="badge_run"),
    path("<slug:slug>/checkin/badges/<uuid:run>/<int:index>.pdf", views.badge_part, name="badge_part"),
    path("<slug:slug>/checkin/<str:door>/", views.desk, name="desk"),
    path("<slug:slug>/checkin/<str:door>/undo/", views.undo, name="undo"),
    path("<slug:slug>/my-registration/ticket/", views.ticket, name="ticket"),
    path("<slug:slug>/my-registration/certificate.pdf", views.certificate, name="certificate"),
    path("<slug:slug>/my-registration/certificate/email/", views.certificate_email, name="certificate_email"),
]
