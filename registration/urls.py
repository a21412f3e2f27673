from django.urls import path

from registration import views

app_name = "registration"

urlpatterns = [
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/my-registration/", views.mine, name="mine"),
    path("<slug:slug>/my-registration/details/", views.edit, name="edit"),
    path("<slug:slug>/my-registration/pre-events/", views.pre_events, name="pre_events"),
    path("<slug:slug>/my-registration/cancel/", views.cancel, name="cancel"),
    path("<slug:slug>/my-registration/my-data.json", views.export, name="export"),
    path("<slug:slug>/my-registration/delete-account/", views.delete_account, name="delete_account"),
]
