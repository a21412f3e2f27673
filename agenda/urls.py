from django.urls import path

from agenda import views

app_name = "agenda"

urlpatterns = [
    path("", views.conference_list, name="conference_list"),
    path("<slug:slug>/", views.conference_detail, name="conference"),
]
