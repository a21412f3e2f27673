import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conference.settings")

django_application = get_wsgi_application()
# The front (settings.WSGI_FRONT) answers what a worker has just served before Django's
# request handling starts; imported once the apps are loaded.
application = import_string(settings.WSGI_FRONT)(django_application)

# Python's collector runs after every 700 new objects and, now and then, goes through every
# object the process holds. Building a large programme (schedule.json of 3,000 sessions makes
# millions) then costs more than in proportion to its size: 14 times as long as for 300
# sessions. What is loaded by now (Django, the apps, the URLs) lives as long as the worker:
# frozen, the collector no longer goes through it, and it runs after 50,000 new objects
# instead; building grows in proportion again (9-11 times) and takes a third less
# (docs/benchmarks.md, "3,000 sessions, 30,000 attendees").
gc.set_threshold(50_000, 10, 10)
gc.freeze()
