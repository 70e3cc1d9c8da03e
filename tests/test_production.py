"""The production profile as an operator runs it: collectstatic, then gunicorn
serving the app and whitenoise its static files, with DEBUG off."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_env(tmp_path):
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LEADS_API", "DJANGO_"))},
        "DEBUG": "False",
        "SECRET_KEY": "p" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SANDBOX_ENABLED": "True",
        "SECURE_SSL_REDIRECT": "False",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_gunicorn_serves_pages_and_whitenoise_serves_hashed_static_files(production_env):
    manage = [sys.executable, "manage.py"]
    collect = subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v0"],
        cwd=REPO_ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert collect.returncode == 0, collect.stderr
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "leadsadmin.wsgi", "-w", "2", "--threads", "4"),
            *("-b", f"127.0.0.1:{port}"),
        ],
        cwd=REPO_ROOT,
        env=production_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                page = httpx.get(base + "/login/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert page.status_code == 200
        css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page.text)
        assert css, "the page links the content-hashed stylesheet"
        static = httpx.get(base + css.group(1), timeout=5)
        assert static.status_code == 200
        assert "max-age=315360000" in static.headers["Cache-Control"]
        assert httpx.get(base + "/leads/", timeout=5).status_code == 302  # sign in first
    finally:
        server.terminate()
        server.wait(timeout=10)
