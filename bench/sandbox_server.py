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
bench_load.py serves it with gunicorn instead (`serving_gunicorn`), and its
dashboard too (`start_gunicorn`).
"""

from __future__ import annotations

import os
import signal
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
    sandbox_seed(wanted - have, seed=int(sys.argv[3]))
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


def prepare_sandbox(env: dict, leads: int, key_name: str, seed: int = 0) -> tuple[int, str]:
    """Migrates, seeds up to `leads` leads (keeps what is there; `seed` is
    sandbox_seed's random seed) and issues a key: (the number of leads, the key's
    full Authorization header value)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PREPARE, str(leads), key_name, str(seed)],
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


# gunicorn's largest request line (its default, 4094, refuses a bulk chunk's PATCH:
# 100 ids in the query string, which the client allows up to 8000 bytes).
LIMIT_REQUEST_LINE = "8190"


def gunicorn_command(port: int, workers: int, threads: int = 1) -> list[str]:
    """gunicorn with `workers` processes of `threads` threads each (gthread keeps
    connections alive; its listening socket sets TCP_NODELAY). A bulk PATCH's
    URL (up to 8,000 bytes) passes gunicorn's default request-line limit of
    4,094 bytes: raised to its maximum."""
    return [
        *(sys.executable, "-m", "gunicorn", "leadsadmin.wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
        *("--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30"),
        *("--limit-request-line", LIMIT_REQUEST_LINE, "--log-level", "warning"),
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
    wait_answering(server, f"{base}/leads/count", {"Authorization": authorization})
    return server, base


def wait_answering(server: subprocess.Popen, url: str, headers: dict | None = None) -> None:
    """Returns once `url` answers 2xx; stops `server` and exits if it never does."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(url, headers=headers).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(server)
    raise SystemExit(f"the server for {url} did not start")


@contextmanager
def serving(env: dict, authorization: str, **options) -> Iterator[tuple[subprocess.Popen, str]]:
    """`start_server`, stopped on the way out."""
    server, base = start_server(env, authorization, **options)
    try:
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=10)


# Access log lines: status, method, path (no query: a PATCH's is 5 KB), time in
# the worker (ms) and the htmx target ("-" for none).
ACCESS_LOG_FORMAT = "%(s)s %(m)s %(U)s %(M)s %({hx-target}i)s"


def start_gunicorn(
    env: dict,
    port: int,
    *,
    workers: int,
    ready_url: str,
    headers=None,
    log_dir: Path,
    threads: int = 1,
) -> subprocess.Popen:
    """`gunicorn_command` on 127.0.0.1:`port` in its own process group, logging to
    `log_dir`/gunicorn-<port>-{access,error}.log; returns once `ready_url` answers 2xx."""
    log_dir.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [
            *gunicorn_command(port, workers, threads),
            *("--access-logfile", str(log_dir / f"gunicorn-{port}-access.log")),
            *("--access-logformat", ACCESS_LOG_FORMAT),
            *("--error-logfile", str(log_dir / f"gunicorn-{port}-error.log")),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_answering(server, ready_url, headers)
    return server


@contextmanager
def serving_gunicorn(
    env: dict, authorization: str, port: int, *, workers: int, log_dir: Path
) -> Iterator[tuple[subprocess.Popen, str]]:
    """The sandbox under gunicorn (`env` must say SANDBOX_ENABLED=True), stopped
    on the way out: (the master process, the base URL ending in /sandbox/api)."""
    base = f"http://127.0.0.1:{port}/sandbox/api"
    server = start_gunicorn(
        env,
        port,
        workers=workers,
        ready_url=f"{base}/leads/count",
        headers={"Authorization": authorization},
        log_dir=log_dir,
    )
    try:
        yield server, base
    finally:
        stop(server)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds; the process's whole group
    when it leads its own (gunicorn's workers with their master)."""
    if process.poll() is not None:
        return
    own_group = os.getpgid(process.pid) == process.pid
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if own_group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
