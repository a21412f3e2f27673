from django.urls import path

from registration import my_programme, staff, views

app_name = "registration"

urlpatterns = [
    # The attendee's own registration.
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/my-registration/", views.mine, name="mine"),
    path("<slug:slug>/my-registration/details/", views.edit, name="edit"),
    path("<slug:slug>/my-registration/pre-events/", views.pre_events, name="pre_events"),
    path("<slug:slug>/my-registration/cancel/", views.cancel, name="cancel"),
    path("<slug:slug>/my-registration/consent/<slug:purpose>/", views.consent, name="consent"),
    path("<slug:slug>/my-registration/my-data.json", views.export, name="export"),
    path("<slug:slug>/my-registration/delete-account/", views.delete_account, name="delete_account"),
    # One's own programme and its private calendar feed.
    path("<slug:slug>/my-programme/", my_programme.my_programme, name="my_programme"),
    path("<slug:slug>/my-programme/new-address/", my_programme.renew_feed, name="renew_programme_feed"),
    path("<slug:slug>/my-programme/<slug:token>.ics", my_programme.my_programme_feed, name="my_programme_feed"),
    # Staff pages.
    path("<slug:slug>/staff/", staff.dashboard, name="staff_dashboard"),
    path("<slug:slug>/staff/attendees.csv", staff.attendees_csv, name="attendees_csv"),
    path("<slug:slug>/staff/check-in.csv", staff.check_in_csv, name="check_in_csv"),
    path("<slug:slug>/staff/sessions/<slug:code>.csv", staff.session_csv, name="session_csv"),
]
