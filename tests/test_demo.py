"""The demo command: its setup, and the whole command run as a person runs it."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import RequestFactory

from leadsadmin.core import roles
from leadsadmin.ops.management.commands.demo import demo_setup
from leadsadmin.sandbox.models import ApiKey, Lead

REPO_ROOT = Path(__file__).resolve().parents[1]


def sign_in():
    """A sign-in request: django-axes checks every authenticate() against one."""
    return RequestFactory().post("/login/")


def test_demo_setup_seeds_an_empty_sandbox_and_creates_the_four_users(db):
    setup = demo_setup(seed_count=40, password="demo-pass-1")

    assert setup.seeded == 40
    assert Lead.objects.count() == 40
    for username, group in [
        ("salesops", roles.SALES_OPS),
        ("teamlead", roles.TEAM_LEADS),
        ("auditor", roles.AUDITORS),
    ]:
        user = authenticate(sign_in(), username=username, password="demo-pass-1")
        assert user is not None
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert not user.is_superuser
    admin = authenticate(sign_in(), username="admin", password="demo-pass-1")
    assert admin.is_superuser and admin.is_staff


def test_demo_setup_issues_a_working_key_as_a_header_value(db):
    setup = demo_setup(seed_count=1, password="demo-pass-1")

    prefix, key = setup.authorization.rsplit(" ", 1)
    assert prefix == "users API-Key"
    assert ApiKey.is_valid(key)


def test_a_second_run_keeps_the_leads_and_resets_the_passwords(db):
    demo_setup(seed_count=5, password="first-pass-1")
    again = demo_setup(seed_count=5, password="second-pass-2")

    assert again.seeded == 0
    assert Lead.objects.count() == 5
    demo_users = ["salesops", "teamlead", "auditor", "admin"]
    assert User.objects.filter(username__in=demo_users).count() == 4
    assert authenticate(sign_in(), username="teamlead", password="first-pass-1") is None
    assert authenticate(sign_in(), username="teamlead", password="second-pass-2") is not None


def test_the_password_comes_from_demo_password_or_is_generated(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-env-3")
    assert demo_setup(seed_count=1).password == "from-the-env-3"

    monkeypatch.delenv("DEMO_PASSWORD")
    generated = demo_setup(seed_count=1).password
    assert len(generated) >= 10
    assert authenticate(sign_in(), username="auditor", password=generated) is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _worker_of(parent: int, *, deadline: float) -> int:
    """The pid of the demo's running `bulk_worker` child (waits for one)."""
    while True:
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            ppid, state = int(stat.rsplit(")", 1)[1].split()[1]), stat.rsplit(")", 1)[1].split()[0]
            if ppid == parent and state != "Z" and b"bulk_worker" in cmdline:
                return int(entry.name)
        assert time.monotonic() < deadline, "the demo runs no bulk_worker"
        time.sleep(0.1)


def test_the_demo_serves_the_dashboard_on_its_own_sandbox_and_ctrl_c_stops_everything(tmp_path):
    """`manage.py demo` as a person runs it: a dashboard page that calls the sandbox
    on the same server answers (no deadlock), a killed worker is replaced while the
    server serves on, and Ctrl-C (SIGINT to the terminal's process group) leaves
    nothing running."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LEADS_API_", "SANDBOX_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEMO_PASSWORD": "demo-pass-9",
        "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
    }
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--addrport", f"127.0.0.1:{port}", "--count", "30"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=20) as browser:
            deadline = time.monotonic() + 90
            while True:
                assert demo.poll() is None, demo.stdout.read().decode()
                try:
                    login = browser.get("/login/")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the demo did not start serving"
                    time.sleep(0.3)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
            signed_in = browser.post(
                "/login/",
                data={
                    "username": "salesops",
                    "password": "demo-pass-9",
                    "csrfmiddlewaretoken": token,
                },
            )
            assert signed_in.status_code == 302
            leads = browser.get("/leads/")
            assert leads.status_code == 200
            assert "30 leads" in leads.text  # the dashboard read its own sandbox

            # A worker killed outright is replaced; the server serves on meanwhile.
            first_worker = _worker_of(demo.pid, deadline=time.monotonic() + 60)
            os.kill(first_worker, signal.SIGKILL)
            assert browser.get("/leads/").status_code == 200
            second_worker = _worker_of(demo.pid, deadline=time.monotonic() + 30)
            assert second_worker != first_worker
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        output = demo.communicate(timeout=60)[0].decode()
    assert "Password: demo-pass-9" in output
    assert "The worker stopped (exit code -9); starting a new one." in output
    assert "Stopped." in output
    deadline = time.monotonic() + 10
    while _group_alive(demo.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group_alive(demo.pid), "a child of the demo is still running"
