from django.urls import path

from agenda import views

app_name = "agenda"

urlpatterns = [
    path("", views.conference_list, name="conference_list"),
    path("<slug:slug>/", views.conference_detail, name="conference"),
    path("<slug:slug>/agenda/", views.session_list, name="agenda"),
    path("<slug:slug>/agenda.ics", views.agenda_ics, name="agenda_ics"),
    path("<slug:slug>/agenda/<slug:code>/", views.session_detail, name="session"),
    path("<slug:slug>/agenda/<slug:code>.ics", views.session_ics, name="session_ics"),
    path("<slug:slug>/agenda/<slug:code>/star/", views.star, name="star"),
    # Beside the agenda, not under it: /agenda/<code>/ is a session's, whatever its code.
    path("<slug:slug>/search/", views.search, name="search"),
    path("<slug:slug>/stars/", views.merge_stars, name="merge_stars"),
    path("<slug:slug>/speakers/", views.speaker_list, name="speakers"),
    path("<slug:slug>/speakers/<slug:code>/", views.speaker_detail, name="speaker"),
    path("<slug:slug>/schedule.xml", views.schedule_xml, name="schedule_xml"),
    path("<slug:slug>/schedule.json", views.schedule_json, name="schedule_json"),
]
