"""The production settings unchanged but for the names of what a test run keeps in Redis:
its cache keys and Celery queue carry the run's id (as in tests/settings.py), so that runs
side by side on one Redis never share rate limits or tasks, and the run's clean-up finds them."""

import os

from conference.settings import *  # noqa: F403
from conference.settings import CACHES

CACHES["default"]["KEY_PREFIX"] = f"test-{os.environ['TEST_RUN_ID']}-production"
CELERY_TASK_DEFAULT_QUEUE = f"test-{os.environ['TEST_RUN_ID']}-production"
