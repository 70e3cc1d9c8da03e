"""`manage.py demo`: the whole product on this machine with one command.

Migrates, seeds the sandbox when it is empty, creates one user per role (password
from DEMO_PASSWORD or a generated one), issues a fresh sandbox key, then runs
`bulk_worker` and a threaded development server as child processes pointed at
the server's own sandbox. A threaded server matters: a dashboard request calls
the sandbox on the same server, and a single-threaded one would wait for itself.
A worker that dies is started again (the server goes on serving); Ctrl-C (or
SIGTERM) stops both children.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from leadsadmin.core import roles
from leadsadmin.sandbox.models import ApiKey, Lead
from leadsadmin.sandbox.seed import sandbox_seed

DEMO_USERS = {
    "salesops": roles.SALES_OPS,
    "teamlead": roles.TEAM_LEADS,
    "auditor": roles.AUDITORS,
    "admin": None,  # superuser
}
MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"
# `manage.py runserver --noreload ADDRPORT` with TCP_NODELAY on its connections: the
# dashboard keeps its connection to the sandbox alive, and stock runserver's small
# segments would then wait ~40 ms for a delayed ACK on every answer.
RUNSERVER = """
import sys
from django.core.management import execute_from_command_line
from django.core.servers import basehttp
basehttp.WSGIRequestHandler.disable_nagle_algorithm = True
execute_from_command_line([sys.argv[1], "runserver", "--noreload", sys.argv[2]])
"""


@dataclass
class DemoSetup:
    password: str
    authorization: str
    seeded: int


def demo_setup(*, seed_count: int = 5000, password: str | None = None) -> DemoSetup:
    """Everything `demo` does before serving: seed an empty sandbox, create or
    update the demo users, and issue a fresh sandbox key."""
    seeded = sandbox_seed(seed_count) if not Lead.objects.exists() else 0
    password = password or os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(9)
    for username, group_name in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_active = True
        user.is_staff = group_name is None
        user.is_superuser = group_name is None
        user.set_password(password)
        user.save()
        if group_name:
            user.groups.set([Group.objects.get(name=group_name)])
    _, plain = ApiKey.issue("demo")
    return DemoSetup(password=password, authorization=ApiKey.header_value(plain), seeded=seeded)


# A worker that keeps dying (a broken TASKS_BACKEND, say) is not restarted in a tight loop.
WORKER_RESTART_SECONDS = 5


def _host_port(addrport: str) -> str:
    return addrport if ":" in addrport else f"127.0.0.1:{addrport}"


class Command(BaseCommand):
    help = "Runs the whole product locally: sandbox API with demo data, demo users, worker, server."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addrport", default="127.0.0.1:8000", help="where to serve (127.0.0.1:8000)"
        )
        parser.add_argument(
            "--count", type=int, default=5000, help="leads to seed into an empty sandbox (5000)"
        )

    def handle(self, *args, addrport, count, **options):
        call_command("migrate", interactive=False, verbosity=0)
        setup = demo_setup(seed_count=count)
        if setup.seeded:
            self.stdout.write(f"Seeded the sandbox with {setup.seeded} leads.")
        host_port = _host_port(addrport)
        env = {
            **os.environ,
            "LEADS_API_URL": f"http://{host_port}/sandbox/api",
            "LEADS_API_KEY": setup.authorization,
            "SANDBOX_ENABLED": "True",
            "SANDBOX_SELF_URL": f"http://{host_port}",
        }
        worker = [sys.executable, str(MANAGE_PY), "bulk_worker"]
        children = _Children(
            worker=subprocess.Popen(worker, env=env),
            server=subprocess.Popen(
                [sys.executable, "-c", RUNSERVER, str(MANAGE_PY), host_port],
                env={**env, "DJANGO_SETTINGS_MODULE": "leadsadmin.settings"},
                cwd=settings.BASE_DIR,
            ),
        )
        self.stdout.write(
            f"\nLeads Admin: http://{host_port}/\n"
            f"Users: {', '.join(DEMO_USERS)} (admin is a superuser)\n"
            f"Password: {setup.password}\n"
            "Ctrl-C stops the server and the worker.\n"
        )
        self._wait(children, lambda: subprocess.Popen(worker, env=env))

    def _wait(self, children: _Children, start_worker) -> None:
        """Until Ctrl-C, SIGTERM or the server stops; a worker that stops is
        started again (at most once every WORKER_RESTART_SECONDS), and the
        operation it left is resumed by the new one."""
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        # Ctrl-C and SIGTERM only set the flag: an exception raised in the middle of
        # starting a worker would leave that worker running, unknown to _stop.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        restarted = 0.0
        while not stopping and children.server.poll() is None:
            waited = time.monotonic() - restarted
            if children.worker.poll() is not None and waited >= WORKER_RESTART_SECONDS:
                self.stderr.write(
                    f"The worker stopped (exit code {children.worker.returncode}); "
                    "starting a new one. The server goes on serving."
                )
                children.worker, restarted = start_worker(), time.monotonic()
            time.sleep(0.3)
        self._stop(children.all)
        if children.server.returncode not in (0, -signal.SIGTERM, None) and not stopping:
            raise CommandError(f"the server stopped with exit code {children.server.returncode}")
        self.stdout.write("Stopped.")

    def _stop(self, children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


@dataclass
class _Children:
    worker: subprocess.Popen
    server: subprocess.Popen

    @property
    def all(self) -> list[subprocess.Popen]:
        return [self.worker, self.server]
