"""Start-up refuses missing or malformed settings, naming the variable."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def start(**overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "LEADS_API_URL", "LEADS_API_KEY", "LEADS_API_TIMEOUT"}
    }
    env.update(overrides)
    env["DJANGO_SETTINGS_MODULE"] = "leadsadmin.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "False"}, "SECRET_KEY"),
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
        ({"LEADS_API_URL": "not a url", "LEADS_API_KEY": "k"}, "LEADS_API_URL"),
        ({"LEADS_API_URL": "https://api.example.com/api"}, "LEADS_API_KEY"),
        ({"LEADS_API_TIMEOUT": "soon"}, "LEADS_API_TIMEOUT"),
        ({"LEADS_API_TIMEOUT": "-1"}, "LEADS_API_TIMEOUT"),
        ({"DEBUG": "False", "SECRET_KEY": "k" * 50}, "SANDBOX_ENABLED"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"LEADS_API_MAX_CONCURRENT": "-1"}, "LEADS_API_MAX_CONCURRENT"),
        ({"LEADS_API_MAX_PER_SECOND": "lots"}, "LEADS_API_MAX_PER_SECOND"),
        ({"CACHE_URL": "nosuchcache://x"}, "CACHE_URL"),
        ({"BULK_CONCURRENCY": "0"}, "BULK_CONCURRENCY"),
        ({"BULK_REVIEW_READERS": "0"}, "BULK_REVIEW_READERS"),
    ],
)
def test_bad_setting_stops_startup_naming_the_variable(overrides, named):
    result = start(**overrides)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert named in last_line


def test_defaults_start_with_nothing_set():
    assert start().returncode == 0


def test_the_sandbox_in_production_only_when_asked_for_by_name():
    production = {"DEBUG": "False", "SECRET_KEY": "k" * 50}
    assert start(**production, SANDBOX_ENABLED="True").returncode == 0
    assert start(**production, SANDBOX_ENABLED="False").returncode == 0


def test_json_log_lines_carry_time_level_logger_and_message():
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "leadsadmin.settings"}
    code = "import django, logging; django.setup(); logging.getLogger('leadsadmin.x').info('hi')"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "leadsadmin.x", "hi")
    assert "time" in line


def test_check_deploy_is_clean_with_production_values():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "False",
        "SECRET_KEY": "x7#kq" * 12,
        "ALLOWED_HOSTS": "leads.example.com",
        "LEADS_API_URL": "https://api.example.com/api",
        "LEADS_API_KEY": "users API-Key secret",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
