"""The site's URLs and, first, the Django floor of `bench.floor`."""

from django.urls import path

from bench.floor import cached_bytes
from conference.urls import handler403, handler404, handler500  # noqa: F401
from conference.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("floor/", cached_bytes), *site_urlpatterns]
