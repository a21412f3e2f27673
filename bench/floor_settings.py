"""The site's settings with one more URL: the Django floor of `bench.floor`."""

from conference.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
