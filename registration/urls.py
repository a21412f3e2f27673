from django.urls import path

app_name = "registration"

urlpatterns: list = []

# Staff pages (registration/staff.py).
from registration import staff  # noqa: E402

staff_urlpatterns = [
    path("<slug:slug>/staff/", staff.dashboard, name="staff_dashboard"),
    path("<slug:slug>/staff/attendees.csv", staff.attendees_csv, name="attendees_csv"),
    path("<slug:slug>/staff/check-in.csv", staff.check_in_csv, name="check_in_csv"),
    path("<slug:slug>/staff/sessions/<slug:code>.csv", staff.session_csv, name="session_csv"),
]
urlpatterns += staff_urlpatterns
