import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REPORT = "import gc, conference.wsgi; print(gc.get_threshold()[0], gc.get_freeze_count() > 10_000)"


def test_the_wsgi_application_freezes_what_it_loaded_and_collects_young_objects_less_often():
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=ROOT,
        env={**environment, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    # What Django and the apps loaded is out of the collector's way; see conference/wsgi.py.
    assert result.stdout.split() == ["50000", "True"]
