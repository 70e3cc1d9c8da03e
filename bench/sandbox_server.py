"""The sandbox served for benchmarks: seeded in a subprocess, then `runserver` in
another (or gunicorn with several worker processes: `workers=N`), on whatever
database `env["DATABASE_URL"]` names.

Used by bench_client.py, bench_sandbox.py, bench_bulk.py and bench_leads_page.py
(a script's folder is on sys.path, so `from sandbox_server import prepare_sandbox, serving`).

    env = {**os.environ, "DATABASE_URL": "sqlite:///…", "SANDBOX_ENABLED": "True",
           "DJANGO_SETTINGS_MODULE": "leadsadmin.settings"}
    count, authorization = prepare_sandbox(env, 100_000, "bench_x")
    with serving(env, authorization) as (process, base):  # base ends in /sandbox/api
        ...

runserver is one process: its threads share one GIL, and on SQLite every write
waits for the one writer lock, so concurrent requests are served about one at a
time. To measure requests in parallel, serve with gunicorn (`workers=4`) on
PostgreSQL.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]

PREPARE = """
import django, sys
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from leadsadmin.sandbox.models import ApiKey, Lead
from leadsadmin.sandbox.seed import sandbox_seed
wanted = int(sys.argv[1])
have = Lead.objects.count()
if have < wanted:
    sandbox_seed(wanted - have)
_, plain = ApiKey.issue(sys.argv[2])
print(Lead.objects.count())
print(ApiKey.header_value(plain))
"""

# runserver with one change: TCP_NODELAY on accepted connections. Stock runserver
# writes a response's headers and body in separate small segments; on a kept-alive
# connection Nagle's algorithm then waits for the client's delayed ACK (~40 ms) on
# every small answer, which would drown what the benchmarks measure.
SERVE = """
import sys, django
django.setup()
from django.core.management import call_command
from django.core.servers import basehttp
basehttp.WSGIRequestHandler.disable_nagle_algorithm = True
call_command("runserver", sys.argv[1], use_reloader=False)
"""


def prepare_sandbox(env: dict, leads: int, key_name: str) -> tuple[int, str]:
    """Migrates, seeds up to `leads` leads (keeps what is there) and issues a key:
    (the number of leads, the key's full Authorization header value)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PREPARE, str(leads), key_name],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"preparing the sandbox failed:\n{result.stderr}")
    count, authorization = result.stdout.split("\n")[:2]
    print(f"sandbox ready: {int(count):,} leads ({time.perf_counter() - started:.0f} s)")
    return int(count), authorization


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_command(port: int, workers: int) -> list[str]:
    """gunicorn with `workers` processes of one thread each (gthread keeps
    connections alive; its listening socket sets TCP_NODELAY). A bulk PATCH's
    URL (up to 8,000 bytes) passes gunicorn's default request-line limit of
    4,094 bytes: raised to its maximum."""
    return [
        *(sys.executable, "-m", "gunicorn", "leadsadmin.wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
        *("--worker-class", "gthread", "--threads", "1", "--keep-alive", "30"),
        *("--limit-request-line", "8190", "--log-level", "warning"),
    ]


def start_server(
    env: dict, authorization: str, *, workers: int = 0, port: int = 0
) -> tuple[subprocess.Popen, str]:
    """`runserver` (TCP_NODELAY), or gunicorn with `workers` processes, on `port`
    (0: a free one); returns once the sandbox answers an authorised count:
    (the process, the base URL ending in /sandbox/api)."""
    port = port or free_port()
    command = (
        gunicorn_command(port, workers)
        if workers
        else [sys.executable, "-c", SERVE, f"127.0.0.1:{port}"]
    )
    server = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/sandbox/api"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base}/leads/count", headers={"Authorization": authorization})
            if response.is_success:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the sandbox server did not start")


@contextmanager
def serving(env: dict, authorization: str, **options) -> Iterator[tuple[subprocess.Popen, str]]:
    """`start_server`, stopped on the way out."""
    server, base = start_server(env, authorization, **options)
    try:
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=10)
