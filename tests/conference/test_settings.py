import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_production_settings_pass_the_deployment_checks():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="s" * 20 + "0123456789abcdefghij!@#$%^&*()-_",
        DEBUG="false",
        ALLOWED_HOSTS="conference.example.org",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("secret_key", ["", "short", "django-insecure-" + "x" * 60])
def test_production_settings_refuse_a_weak_secret_key(secret_key):
    result = run_manage("check", SECRET_KEY=secret_key, DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_request_log_line_is_printed_once(debug):
    result = run_manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('django.request').error('Not Found: /no-such-page/')",
        SECRET_KEY="s" * 20 + "0123456789abcdefghij!@#$%^&*()-_",
        DEBUG=debug,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Not Found: /no-such-page/") == 1, result.stderr
