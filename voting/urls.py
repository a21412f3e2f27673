from django.urls import path

from voting import views

app_name = "voting"

urlpatterns = [
    path("<slug:slug>/vote/", views.vote, name="vote"),
    path("<slug:slug>/vote/live.json", views.live, name="live"),
    path("<slug:slug>/vote/join/", views.join, name="join"),
    path("<slug:slug>/vote/polls/<int:poll_id>/", views.cast, name="cast"),
    path("<slug:slug>/vote/questions/<int:question_id>/upvote/", views.upvote, name="upvote"),
    path("<slug:slug>/vote/<slug:code>/ask/", views.ask, name="ask"),
    path("<slug:slug>/vote/<slug:code>/moderate/", views.moderate, name="moderate"),
    path("<slug:slug>/vote/<slug:code>/screen/", views.screen, name="screen"),
    path("<slug:slug>/vote/<slug:code>/screen/events", views.screen_events, name="screen_events"),
    path("<slug:slug>/vote/<slug:code>/results.csv", views.results_csv, name="results_csv"),
]
