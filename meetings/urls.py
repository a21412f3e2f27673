from django.urls import path

from meetings import staff, views

app_name = "meetings"

urlpatterns = [
    path("<slug:slug>/meetings/", views.home, name="home"),
    path("<slug:slug>/meetings/profile/", views.profile, name="profile"),
    path("<slug:slug>/meetings/profile/opt-out/", views.opt_out, name="opt_out"),
    path("<slug:slug>/meetings/people/", views.directory, name="directory"),
    path("<slug:slug>/meetings/people/<int:profile_id>/", views.person, name="person"),
    path("<slug:slug>/meetings/requests/<int:request_id>/", views.respond, name="respond"),
    path("<slug:slug>/meetings/requests/<int:request_id>/cancel/", views.cancel, name="cancel"),
    # Organisers.
    path("<slug:slug>/meetings/staff/", staff.figures, name="figures"),
    path("<slug:slug>/meetings/staff/profiles/", staff.profiles, name="profiles"),
    path("<slug:slug>/meetings/staff/blocks/<int:block_id>/tables/", staff.table_plan, name="table_plan"),
    path("<slug:slug>/meetings/staff/blocks/<int:block_id>/tables.csv", staff.table_plan_csv, name="table_plan_csv"),
]
