import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conference.settings")

django_application = get_wsgi_application()
# The front (settings.WSGI_FRONT) answers what a worker has just served before Django's
# request handling starts; imported once the apps are loaded.
application = import_string(settings.WSGI_FRONT)(django_application)
