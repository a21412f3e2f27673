from django.urls import path  # noqa: F401  (routes are added by the registration views)

app_name = "registration"

urlpatterns: list = []
