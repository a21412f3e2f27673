from .celery import app as celery_app
from .form_messages import speak_plainly

# Before any form is made: fields copy their default messages when they are.
speak_plainly()

__all__ = ("celery_app",)
