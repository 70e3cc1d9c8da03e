"""Load benchmark (issue 13): signed-in users browse while two bulk jobs run.

Everything runs on this machine, on PostgreSQL, over real HTTP:

- the sandbox: gunicorn (``--sandbox-workers``) on its own database
  ``load_sandbox``, seeded with ``sandbox_seed`` (2 x ``--leads-per-job`` + 5,000
  leads) and a key as ``manage.py sandbox_key`` makes one;
- the dashboard: gunicorn (``--workers`` processes of ``--threads`` threads, DEBUG
  off, collectstatic first) on
  ``load_dashboard``, LEADS_API_URL pointing at the sandbox's gunicorn;
- two task workers (``WORKER_COMMAND``) on the dashboard's database.

``--users`` sales-ops users sign in through the login form (httpx, one cookie jar
each) and loop: the leads page with a filter, a filter change (htmx preview),
page 2 or 3, a sort, a lead's detail and a small filtered CSV export, with a
random pause of 0..2 x ``--think`` seconds between clicks. Once they are warm, two
superusers each drive a bulk edit of ``--leads-per-job`` leads (ids 1..N and
N+1..2N, ``notes`` set to a value no lead has) through the pages: bulk new →
Review changes → "Type N to confirm" → Apply, then poll the operation's page
until it ends. Browsing goes on until both jobs have ended (and at least
``--min-seconds``).

Printed: per page kind the count, p50/p95/p99/max and errors; errors by status;
5xx seen by the users and in both gunicorns' access logs; each job's review and
run times and leads/s. Then the checks: every lead of each job holds its value in
the sandbox's database, was written exactly once (a trigger on the sandbox's lead
table logs every row update, so a lead updated twice shows), no lead outside the
job got the value, the operation counts N updated, 0 errors, 0 conflicts in
ceil(N / BULK_CHUNK_SIZE) chunks.

``--kill-worker`` SIGKILLs task worker 1 once both jobs are running and each has
a chunk done (so it dies mid-job), starts a fresh worker, and checks that both
jobs still finish within ``--job-timeout`` with nobody acting: the other
``bulk_worker`` sees the killed one stop beating and resumes its operation.

Servers listen on ``--port`` (dashboard, 8140) and the next port (sandbox); their
access and error logs and the workers' output go to var/bench-load/. Every
process is stopped on the way out, Ctrl-C and SIGTERM included, and both
databases dropped unless ``--keep``. The exit status is 0 when every check is met.

    uv run python bench/bench_load.py --quick          # 5 users, 2 x 1,000 leads
    uv run python bench/bench_load.py                  # 20 users, 2 x 10,000 leads
    uv run python bench/bench_load.py --kill-worker --keep
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sandbox_server import prepare_sandbox, serving_gunicorn, start_gunicorn, stop

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# The task worker, started twice (and once more after --kill-worker). One line to
# change for a worker that heartbeats and resumes stalled operations.
WORKER_COMMAND = ["manage.py", "bulk_worker"]

PG = "postgres://postgres@127.0.0.1:5432"
DASHBOARD_DB, SANDBOX_DB = "load_dashboard", "load_sandbox"
LOG_DIR = REPO / "var" / "bench-load"
PASSWORD = "bench-load-only-not-secret"
PREVIEW_TARGET_MS = 300  # the goal for the preview's p95
EXTRA_LEADS = 5_000  # beyond the two jobs' leads, so browsing sees leads no job touches

ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-load-only-not-secret",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "False",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
}

STATUSES = ("Qualified Lead", "On Hold", "Lost", "Actively Communicating")
SORTS = ("-year", "year", "-id", "email", "processStatuses")
PREVIEW_KINDS = ("preview: filter change", "preview: page 2/3", "preview: sort")
KINDS = (
    "leads page (filter)",
    *PREVIEW_KINDS,
    "lead detail",
    "export CSV (filtered)",
    "bulk new",
    "review (pin, POST)",
    "review page",
    "apply (POST)",
    "operation page (poll)",
)


# ------------------------------------------------------------------ measurements


@dataclass
class Sample:
    kind: str
    ms: float
    status: str  # "200", "502", "ConnectError", "200 API error shown"
    during_jobs: bool
    during_review: bool = False  # a job's review (POST) was under way when it started


@dataclass
class Run:
    """What every thread reports into (list.append is atomic in CPython)."""

    samples: list[Sample] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    jobs_running: threading.Event = field(default_factory=threading.Event)
    problems: list[str] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)  # the jobs whose review is under way

    def timed(self, kind: str, call, check=None) -> httpx.Response | None:
        """Runs the request `call`, records its time and outcome; None on a
        transport error. `check(response)` names a problem in a 2xx answer."""
        during, reviewing = self.jobs_running.is_set(), bool(self.reviews)
        started = time.perf_counter()
        try:
            response = call()
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - started) * 1000
            self.samples.append(Sample(kind, ms, type(exc).__name__, during, reviewing))
            return None
        ms = (time.perf_counter() - started) * 1000
        status = str(response.status_code)
        if response.is_success and check and (problem := check(response)):
            status = f"{status} {problem}"
        self.samples.append(Sample(kind, ms, status, during, reviewing))
        return response


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def is_error(status: str) -> bool:
    return not status.startswith(("2", "3")) or " " in status


# ------------------------------------------------------------------ processes


def databases_create() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as db:
        for name in (DASHBOARD_DB, SANDBOX_DB):
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            db.execute(f"CREATE DATABASE {name}")


def databases_drop() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as db:
        for name in (DASHBOARD_DB, SANDBOX_DB):
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# Every row update of a sandbox lead, logged by the database itself: a lead
# written twice (a duplicated update) shows as two rows, whatever sent it.
WRITES_LOG = """
CREATE TABLE load_lead_writes (lead_id bigint NOT NULL, notes text,
                               at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION load_lead_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO load_lead_writes (lead_id, notes) VALUES (NEW.id, NEW.notes);
    RETURN NEW;
END $$;
CREATE TRIGGER load_lead_writes AFTER UPDATE ON sandbox_lead
    FOR EACH ROW EXECUTE FUNCTION load_lead_write();
"""


def writes_log_install() -> None:
    with psycopg.connect(f"{PG}/{SANDBOX_DB}", autocommit=True) as db:
        db.execute(WRITES_LOG)


class TaskWorkers:
    """The task workers this benchmark started (each in its own process group)."""

    def __init__(self, env: dict):
        self.env = env
        self.processes: list[subprocess.Popen] = []
        LOG_DIR.mkdir(parents=True, exist_ok=True)

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = open(LOG_DIR / f"worker-{number}.log", "wb")  # noqa: SIM115 - the child keeps it
        worker = subprocess.Popen(
            [sys.executable, *WORKER_COMMAND],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(worker)
        return worker

    def kill(self, index: int) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait()

    def stop_all(self) -> None:
        for worker in self.processes:
            stop(worker)


def dashboard_prepare(env: dict, users: int) -> list[str]:
    """In this process (its ORM reads the operations later): migrate,
    collectstatic, the users. Returns the sales-ops user names; the two
    superusers are job-1 and job-2."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from leadsadmin.core.roles import SALES_OPS

    call_command("migrate", verbosity=0)
    # DEBUG off, as in production: pages link the hashed static files.
    call_command("collectstatic", interactive=False, verbosity=0)
    password = make_password(PASSWORD)  # hashed once: it is slow on purpose
    names = [f"user-{number}" for number in range(1, users + 1)]
    User.objects.bulk_create(User(username=name, password=password) for name in names)
    Group.objects.get(name=SALES_OPS).user_set.add(*User.objects.filter(username__in=names))
    User.objects.bulk_create(
        User(username=f"job-{n}", password=password, is_superuser=True, is_staff=True)
        for n in (1, 2)
    )
    return names


# ------------------------------------------------------------------ HTTP users

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def signed_in(base: str, username: str) -> httpx.Client:
    """A client signed in through the login form."""
    client = httpx.Client(base_url=base, timeout=120)
    client.event_hooks["response"] = [lambda response: cookies_over_http(client)]
    form = client.get("/login/")
    response = client.post(
        "/login/",
        data={
            "csrfmiddlewaretoken": csrf_token(form),
            "username": username,
            "password": PASSWORD,
            "next": "",
        },
    )
    if response.status_code != 302:
        raise SystemExit(f"{username} could not sign in (status {response.status_code})")
    return client


def cookies_over_http(client: httpx.Client) -> None:
    """DEBUG off marks the session and CSRF cookies Secure, which a cookie jar
    sends over HTTPS only; this benchmark has no TLS proxy in front, so it
    sends them over plain HTTP."""
    for cookie in client.cookies.jar:
        cookie.secure = False


def csrf_token(response: httpx.Response) -> str:
    match = CSRF_INPUT.search(response.content)
    if not match:
        raise SystemExit(f"no CSRF token on {response.request.url}")
    return match.group(1).decode()


def htmx(target: str) -> dict:
    return {"HX-Request": "true", "HX-Target": target}


def preview_shown(response: httpx.Response) -> str:
    """A page that answered 200 but shows the API's error instead of leads."""
    return "API error shown" if b"preview-error" in response.content else ""


def filter_query(rng: random.Random) -> str:
    """One of the filters people use: a status, a year range, or both."""
    status = rng.choice(STATUSES)
    year = rng.randint(2008, 2022)
    return rng.choice(
        (
            f"f0=processStatuses&op0=equals&v0={status}",
            f"f0=year&op0=greater_than&v0={year}",
            f"c0=0&f0=processStatuses&op0=equals&v0={status}"
            f"&c1=0&f1=year&op1=greater_than&v1={year}",
        )
    )


def browse_once(client: httpx.Client, run: Run, rng: random.Random, leads: int, think: float):
    """One round of clicks by one user."""

    def pause():
        if think and not run.stop.is_set():
            time.sleep(rng.uniform(0, 2 * think))

    where = filter_query(rng)
    run.timed("leads page (filter)", lambda: client.get(f"/leads/?{where}"), preview_shown)
    pause()
    where = filter_query(rng)
    steps = (
        ("preview: filter change", f"/leads/?{where}", "workspace"),
        ("preview: page 2/3", f"/leads/?{where}&page={rng.choice((2, 3))}", "preview"),
        ("preview: sort", f"/leads/?{where}&sort={rng.choice(SORTS)}", "preview"),
    )
    for kind, url, target in steps:
        run.timed(kind, lambda url=url, t=target: client.get(url, headers=htmx(t)), preview_shown)
        pause()
    lead_id = rng.randint(1, leads)
    run.timed("lead detail", lambda: client.get(f"/leads/{lead_id}/", headers=htmx("lead-detail")))
    pause()
    status, year = rng.choice(STATUSES), rng.randint(2008, 2022)
    export = f"c0=0&f0=processStatuses&op0=equals&v0={status}&c1=0&f1=year&op1=equals&v1={year}"
    run.timed("export CSV (filtered)", lambda: streamed(client, f"/leads/export.csv?{export}"))
    pause()


def streamed(client: httpx.Client, url: str) -> httpx.Response:
    """The whole streamed body read, as a browser saving the file would."""
    with client.stream("GET", url) as response:
        for _ in response.iter_bytes():
            pass
    return response


def user_loop(client: httpx.Client, run: Run, seed: int, leads: int, think: float) -> None:
    rng = random.Random(seed)
    try:
        while not run.stop.is_set():
            browse_once(client, run, rng, leads, think)
    except Exception as exc:  # a bug here must show, not end the thread silently
        run.problems.append(f"user thread: {exc!r}")
    finally:
        client.close()


# ------------------------------------------------------------------ bulk jobs


@dataclass
class Job:
    name: str
    first_id: int
    last_id: int
    value: str
    operation_id: int | None = None
    review_s: float = 0.0  # POST "Review changes" (count + pin) and the review page
    to_confirm: str = ""
    applied_at: float = 0.0
    ended_at: float = 0.0

    @property
    def filter(self) -> str:
        return (
            f"c0=0&f0=id&op0=greater_than_equal&v0={self.first_id}"
            f"&c1=0&f1=id&op1=less_than_equal&v1={self.last_id}"
        )

    @property
    def size(self) -> int:
        return self.last_id - self.first_id + 1


def drive_job(client: httpx.Client, run: Run, job: Job) -> None:
    """Bulk new → Review changes → Type N to confirm → Apply, as a person would."""
    page = run.timed("bulk new", lambda: client.get(f"/bulk/new?{job.filter}"))
    data = {
        "csrfmiddlewaretoken": csrf_token(page),
        "fields": "notes",
        "value-notes": job.value,
        "reason": f"Load benchmark, {job.name}",
        "action": "review",
    }
    started = time.perf_counter()
    run.reviews.append(job.name)
    try:
        posted = run.timed(
            "review (pin, POST)", lambda: client.post(f"/bulk/new?{job.filter}", data=data)
        )
    finally:
        run.reviews.remove(job.name)
    if posted is None or posted.status_code != 302:
        raise RuntimeError(f"{job.name}: Review changes answered {posted and posted.status_code}")
    review_url = posted.headers["location"]
    job.operation_id = int(re.search(r"/bulk/(\d+)/review", review_url).group(1))
    review = run.timed("review page", lambda: client.get(review_url))
    job.review_s = time.perf_counter() - started
    confirm = re.search(rb"Type ([\d,]+) to confirm", review.content)
    job.to_confirm = confirm.group(1).decode() if confirm else ""
    answer = run.timed(
        "apply (POST)",
        lambda: client.post(
            f"/bulk/{job.operation_id}/apply",
            data={"csrfmiddlewaretoken": csrf_token(review), "confirmation": job.to_confirm},
        ),
    )
    if answer is None or answer.status_code != 302:
        raise RuntimeError(f"{job.name}: Apply answered {answer and answer.status_code}")
    job.applied_at = time.perf_counter()


def poll_job(client: httpx.Client, run: Run, job: Job, timeout: float) -> None:
    """The operation's page, polled each second as its htmx status does, until
    the operation has ended (read from the database) or `timeout` passes."""
    from django.db import connection

    from leadsadmin.bulk.models import BulkOperation

    url = f"/bulk/{job.operation_id}/"
    try:
        while time.perf_counter() - job.applied_at < timeout and not run.stop.is_set():
            run.timed("operation page (poll)", lambda: client.get(url, headers=htmx("status")))
            state = BulkOperation.objects.values_list("state", flat=True).get(pk=job.operation_id)
            if state in BulkOperation.ENDED_STATES:
                job.ended_at = time.perf_counter()
                return
            time.sleep(1)
    finally:
        connection.close()


def job_thread(client: httpx.Client, run: Run, job: Job, timeout: float) -> None:
    try:
        drive_job(client, run, job)
        poll_job(client, run, job, timeout)
    except Exception as exc:
        run.problems.append(f"{job.name}: {exc!r}")
    finally:
        client.close()


# ------------------------------------------------------------------ the run


@dataclass
class Kill:
    at_s: float = 0.0  # seconds after the jobs started
    progress: str = ""


def run_load(args, base: str, workers: TaskWorkers, names: list[str]) -> tuple[Run, list, dict]:
    """Signs everyone in, warms them up, starts the jobs and browses until they end."""
    leads = 2 * args.leads_per_job + EXTRA_LEADS
    clients = [signed_in(base, name) for name in names]
    # Signed in now: the two jobs then start together, not a sign-in apart.
    leads_clients = [signed_in(base, f"job-{number}") for number in (1, 2)]
    warm = Run()  # one round each, not measured: gunicorn's workers load lazily
    threads = [
        threading.Thread(target=browse_once, args=(c, warm, random.Random(i), leads, 0))
        for i, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run = Run()
    skip = len(access_lines(args.port))  # the sign-ins and the warm-up
    users = [
        threading.Thread(
            target=user_loop,
            args=(client, run, args.seed * 1000 + i, leads, args.think),
            daemon=True,
        )
        for i, client in enumerate(clients)
    ]
    for user in users:
        user.start()
    try:
        jobs, timing = start_jobs(args, leads_clients, run)
        timing["log_skip"] = skip
        watch(args, run, jobs, workers, timing)
    finally:
        run.stop.set()  # on Ctrl-C too: the users stop before their servers do
    for user in users:
        user.join(timeout=150)
    return run, jobs, timing


def start_jobs(args, clients: list[httpx.Client], run: Run) -> tuple[list, dict]:
    stamp = datetime.now(UTC).strftime("%H%M%S")
    n = args.leads_per_job
    jobs = [
        Job("job 1", 1, n, f"load {stamp} job 1"),
        Job("job 2", n + 1, 2 * n, f"load {stamp} job 2"),
    ]
    run.jobs_running.set()
    timing = {"started": time.perf_counter(), "kill": None, "threads": []}
    for job, client in zip(jobs, clients, strict=True):
        thread = threading.Thread(
            target=job_thread, args=(client, run, job, args.job_timeout), daemon=True
        )
        thread.start()
        timing["threads"].append(thread)
    return jobs, timing


def watch(args, run: Run, jobs: list, workers: TaskWorkers, timing: dict) -> None:
    """Until both jobs have ended and --min-seconds have passed; kills a worker
    on the way when --kill-worker says so."""
    started = timing["started"]
    while True:
        jobs_alive = any(thread.is_alive() for thread in timing["threads"])
        if not jobs_alive:
            run.jobs_running.clear()
        if not jobs_alive and time.perf_counter() - started >= args.min_seconds:
            timing["window"] = time.perf_counter() - started
            return
        if args.kill_worker and timing["kill"] is None:
            timing["kill"] = kill_when_busy(jobs, workers, started)
        time.sleep(0.2)


def kill_when_busy(jobs: list, workers: TaskWorkers, started: float) -> Kill | None:
    """SIGKILLs worker 1 and starts a fresh one once both jobs are running and
    each has a chunk done (a worker runs one task at a time, so worker 1 is then
    mid-job, whichever job it has); None until then."""
    from leadsadmin.bulk.models import BulkOperation

    ids = [job.operation_id for job in jobs if job.operation_id]
    operations = list(BulkOperation.objects.filter(pk__in=ids).order_by("pk"))
    running = [op for op in operations if op.state == BulkOperation.State.RUNNING]
    if len(running) < 2 or not all(op.updated_count for op in running):
        return None
    workers.kill(0)
    workers.start()
    progress = ", ".join(f"#{op.pk} {op.updated_count:,}/{op.total:,}" for op in running)
    print(f"  killed worker 1 (SIGKILL) with {progress} done; started worker 3")
    return Kill(at_s=time.perf_counter() - started, progress=progress)


# ------------------------------------------------------------------ checks


def operation_record(job: Job) -> dict:
    from django.db.models import Sum

    from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead

    op = BulkOperation.objects.get(pk=job.operation_id)
    chunks = BulkChunk.objects.filter(operation=op)
    outcomes = Counter(
        PinnedLead.objects.filter(operation=op).values_list("outcome", flat=True).iterator()
    )
    run_s = (op.finished_at - op.started_at).total_seconds() if op.finished_at else None
    return {
        "state": op.state,
        "total": op.total,
        "updated": op.updated_count,
        "errors": op.error_count,
        "conflicts": op.conflict_count,
        "chunks": chunks.count(),
        "requested": chunks.aggregate(n=Sum("requested"))["n"] or 0,
        "outcomes": outcomes,
        "queued_s": (op.started_at - op.applied_at).total_seconds() if op.started_at else None,
        "run_s": run_s,
        "stop_reason": op.stop_reason,
    }


def sandbox_record(job: Job) -> dict:
    """What the sandbox's own database says about the job's leads."""
    span = (job.first_id, job.last_id)
    with psycopg.connect(f"{PG}/{SANDBOX_DB}") as db:

        def one(sql, *params):
            return db.execute(sql, params).fetchone()[0]

        return {
            "holding": one(
                "SELECT count(*) FROM sandbox_lead WHERE id BETWEEN %s AND %s AND notes = %s",
                *span,
                job.value,
            ),
            "stray": one(
                "SELECT count(*) FROM sandbox_lead WHERE notes = %s AND id NOT BETWEEN %s AND %s",
                job.value,
                *span,
            ),
            "written_twice": one(
                "SELECT count(*) FROM (SELECT lead_id FROM load_lead_writes "
                "WHERE lead_id BETWEEN %s AND %s GROUP BY lead_id HAVING count(*) > 1) AS t",
                *span,
            ),
            "writes": one(
                "SELECT count(*) FROM load_lead_writes WHERE lead_id BETWEEN %s AND %s", *span
            ),
        }


def access_log(port: int) -> dict:
    """5xx answers and bulk PATCHes in a gunicorn access log (ACCESS_LOG_FORMAT)."""
    counts = Counter()
    for line in access_lines(port):
        status, method, url = [*line.split(), "", "", ""][:3]
        counts["requests"] += 1
        counts["5xx"] += status.startswith("5")
        counts["patch"] += method == "PATCH" and url.endswith("/leads")
    return counts


# The dashboard's requests as its access log tells them apart: (label, method,
# path, htmx target or None for any).
SERVER_KINDS = (
    ("GET /leads/, whole page", "GET", r"/leads/", "-"),
    ("GET /leads/, htmx workspace (filter change)", "GET", r"/leads/", "workspace"),
    ("GET /leads/, htmx preview (page, sort)", "GET", r"/leads/", "preview"),
    ("GET /leads/<id>/ (detail)", "GET", r"/leads/\d+/", None),
    ("GET /leads/export.csv", "GET", r"/leads/export\.csv", None),
    ("POST /bulk/new (count + pin)", "POST", r"/bulk/new", None),
    ("GET /bulk/<id>/ (operation poll)", "GET", r"/bulk/\d+/", None),
)


def access_lines(port: int) -> list[str]:
    path = LOG_DIR / f"gunicorn-{port}-access.log"
    return path.read_text().splitlines() if path.exists() else []


def server_times(port: int, skip: int) -> dict[str, list[float]]:
    """Milliseconds inside a dashboard worker per SERVER_KINDS, from the access
    log after its first `skip` lines (sign-ins and warm-up)."""
    times: dict[str, list[float]] = {label: [] for label, *_ in SERVER_KINDS}
    for line in access_lines(port)[skip:]:
        _, method, url, ms, target = [*line.split(), "", "", "", "", ""][:5]
        for label, wanted, pattern, hx_target in SERVER_KINDS:
            if method == wanted and re.fullmatch(pattern, url) and hx_target in (None, target):
                times[label].append(float(ms))
    return times


# ------------------------------------------------------------------ the report


def print_server_times(times: dict[str, list[float]]) -> None:
    print(
        "\n| dashboard request, time inside a gunicorn worker (access log; "
        "not the wait for a free worker) | requests | p50 | p95 | p99 |"
    )
    print("|---|---|---|---|---|")
    for label, ms in times.items():
        if ms:
            print(
                f"| {label} | {len(ms):,} | {statistics.median(ms):.0f} ms "
                f"| {percentile(ms, 95):.0f} ms | {percentile(ms, 99):.0f} ms |"
            )


def print_pages(run: Run) -> None:
    print("| page | requests | during jobs | p50 | p95 | p99 | max | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        samples = [s for s in run.samples if s.kind == kind]
        if not samples:
            continue
        ms = [s.ms for s in samples]
        errors = sum(is_error(s.status) for s in samples)
        print(
            f"| {kind} | {len(ms):,} | {sum(s.during_jobs for s in samples):,} "
            f"| {statistics.median(ms):.0f} ms | {percentile(ms, 95):.0f} ms "
            f"| {percentile(ms, 99):.0f} ms | {max(ms):.0f} ms | {errors} |"
        )
    statuses = Counter(s.status for s in run.samples if is_error(s.status))
    listed = ", ".join(f"{status}: {n}" for status, n in statuses.most_common()) or "none"
    print(f"\nerrors by status: {listed}")


def print_jobs(jobs: list, records: list[dict], sandbox: list[dict]) -> None:
    print(
        "\n| job | leads | review (POST + page) | applied → started | run | leads/s "
        "| state | updated / errors / conflicts | chunks | lead writes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for job, op, found in zip(jobs, records, sandbox, strict=True):
        run_s = op["run_s"]
        print(
            f"| {job.name} (#{job.operation_id}, ids {job.first_id:,}-{job.last_id:,}) "
            f"| {op['total']:,} | {job.review_s:.2f} s | {_seconds(op['queued_s'])} "
            f"| {_seconds(run_s)} | {op['updated'] / run_s if run_s else 0:,.0f} "
            f"| {op['state']} | {op['updated']:,} / {op['errors']} / {op['conflicts']} "
            f"| {op['chunks']} | {found['writes']:,} |"
        )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _p95_by_jobs(run) -> str:
    """The previews' p95 while a job was being reviewed or run (and of those, the
    ones started while a review was under way), and while none was."""
    previews = [s for s in run.samples if s.kind in PREVIEW_KINDS]
    parts = []
    for label, chosen in (
        ("during the jobs", [s for s in previews if s.during_jobs]),
        ("of which during a review", [s for s in previews if s.during_review]),
        ("with no job", [s for s in previews if not s.during_jobs]),
    ):
        if chosen:
            ms = [s.ms for s in chosen]
            parts.append(f"{label}: p95 {percentile(ms, 95):.0f} ms of {len(ms):,}")
    return "; ".join(parts)


def checks(args, run, jobs, records, sandbox, logs, timing) -> list[tuple[str, bool, str]]:
    """(what, met, the figures) for each goal the issue names."""
    previews = [s.ms for s in run.samples if s.kind in PREVIEW_KINDS]
    p95 = percentile(previews, 95) if previews else float("nan")
    client_5xx = sum(s.status.startswith("5") for s in run.samples)
    rows = [
        (
            f"preview p95 ≤ {PREVIEW_TARGET_MS} ms (filter change, page, sort)",
            p95 <= PREVIEW_TARGET_MS,
            f"{p95:.0f} ms over {len(previews):,} previews ({_p95_by_jobs(run)})",
        ),
        (
            "zero 5xx",
            client_5xx + logs["dashboard"]["5xx"] + logs["sandbox"]["5xx"] == 0,
            f"users saw {client_5xx}; dashboard log {logs['dashboard']['5xx']}, "
            f"sandbox log {logs['sandbox']['5xx']}",
        ),
        ("no thread failed", not run.problems, "; ".join(run.problems) or "none"),
    ]
    for job, op, found in zip(jobs, records, sandbox, strict=True):
        rows += job_checks(job, op, found)
    if args.kill_worker:
        kill = timing["kill"]
        rows.append(
            (
                "a killed worker is replaced and its job finishes unattended",
                kill is not None and all(op["state"] == "finished" for op in records),
                f"killed at {kill.at_s:.0f} s ({kill.progress})" if kill else "never killed",
            )
        )
    return rows


def job_checks(job: Job, op: dict, found: dict) -> list[tuple[str, bool, str]]:
    """The operation's own record, then the sandbox's leads."""
    from django.conf import settings

    chunks = math.ceil(job.size / settings.BULK_CHUNK_SIZE)
    recorded = (
        op["state"] == "finished"
        and (op["total"], op["updated"], op["errors"], op["conflicts"], op["chunks"])
        == (job.size, job.size, 0, 0, chunks)
        and op["outcomes"] == Counter({"updated": job.size})
    )
    in_sandbox = (
        found["holding"] == job.size
        and found["stray"] == 0
        and found["written_twice"] == 0
        and found["writes"] == job.size
    )
    return [
        (
            f"{job.name}: finished, {job.size:,} updated / 0 / 0 in {chunks} chunks",
            recorded,
            f"{op['state']}, {op['updated']:,} / {op['errors']} / {op['conflicts']}, "
            f"{op['chunks']} chunks, pins {dict(op['outcomes'])} {op['stop_reason']}",
        ),
        (
            f"{job.name}: every lead holds its value, none lost, none written twice",
            in_sandbox,
            f"{found['holding']:,} hold it, {job.size - found['holding']:,} do not, "
            f"{found['written_twice']} written twice, {found['stray']} outside the job",
        ),
    ]


def print_report(args, run, jobs, timing, logs, load_before) -> bool:
    records = [operation_record(job) for job in jobs]
    sandbox = [sandbox_record(job) for job in jobs]
    during = sum(s.during_jobs for s in run.samples)
    print(
        f"\nLoad benchmark: {args.users} users (pause 0-{2 * args.think:g} s between clicks), "
        f"2 jobs x {args.leads_per_job:,} leads; dashboard gunicorn {args.workers} workers "
        f"x {args.threads} thread(s), "
        f"sandbox gunicorn {args.sandbox_workers} workers, 2 task workers "
        f"({' '.join(WORKER_COMMAND)}), PostgreSQL; {os.cpu_count()} CPUs; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"browsing measured for {timing['window']:.0f} s, {len(run.samples):,} requests "
        f"({during:,} while a job was being reviewed or run); dashboard answered "
        f"{logs['dashboard']['requests']:,} requests, sandbox {logs['sandbox']['requests']:,} "
        f"(bulk PATCHes: {logs['sandbox']['patch']:,})\n"
    )
    print_pages(run)
    print_server_times(server_times(args.port, timing["log_skip"]))
    print_jobs(jobs, records, sandbox)
    print("\n| check | met | figures |\n|---|---|---|")
    results = checks(args, run, jobs, records, sandbox, logs, timing)
    for what, met, figures in results:
        print(f"| {what} | {'yes' if met else 'NO'} | {figures} |")
    return all(met for _, met, _ in results)


# ------------------------------------------------------------------ main


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--leads-per-job", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0, help="sandbox_seed's and the users' seed")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between clicks (s)")
    parser.add_argument("--min-seconds", type=float, default=30, help="browse at least this long")
    parser.add_argument("--job-timeout", type=float, default=300, help="seconds per job run")
    parser.add_argument("--workers", type=int, default=4, help="dashboard gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per dashboard worker (README: 4)"
    )
    parser.add_argument("--sandbox-workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8140, help="dashboard; the sandbox: +1")
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL a worker mid-job")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--quick", action="store_true", help="5 users, 2 x 1,000 leads")
    args = parser.parse_args()
    if args.quick:
        args.users, args.leads_per_job, args.min_seconds = 5, 1_000, 10
    return args


def serve_sandbox(args, cleanup: ExitStack) -> tuple[dict, str, str]:
    """The seeded sandbox under gunicorn: (its environment, its base URL, the key)."""
    env = {**os.environ, **ENV, "DATABASE_URL": f"{PG}/{SANDBOX_DB}", "SANDBOX_ENABLED": "True"}
    for name in ("LEADS_API_URL", "LEADS_API_KEY"):
        env.pop(name, None)
    leads = 2 * args.leads_per_job + EXTRA_LEADS
    _, authorization = prepare_sandbox(env, leads, "bench_load", args.seed)
    writes_log_install()
    _, api = cleanup.enter_context(
        serving_gunicorn(
            env, authorization, args.port + 1, workers=args.sandbox_workers, log_dir=LOG_DIR
        )
    )
    return env, api, authorization


def serve_dashboard(args, cleanup: ExitStack, env: dict) -> tuple[str, TaskWorkers, list[str]]:
    """The dashboard under gunicorn and two task workers: (its base URL, the
    workers, the sales-ops user names)."""
    names = dashboard_prepare(env, args.users)
    from django.db import connections

    cleanup.callback(connections.close_all)  # this process's, before the drop
    base = f"http://127.0.0.1:{args.port}"
    dashboard = start_gunicorn(
        env,
        args.port,
        workers=args.workers,
        threads=args.threads,
        ready_url=f"{base}/login/",
        log_dir=LOG_DIR,
    )
    cleanup.callback(stop, dashboard)
    workers = TaskWorkers(env)
    cleanup.callback(workers.stop_all)
    workers.start()
    workers.start()
    return base, workers, names


def main() -> int:
    args = arguments()
    load_before = os.getloadavg()[0]
    # Ctrl-C raises KeyboardInterrupt here; SIGTERM does the same, so the
    # ExitStack below stops every process this script started either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    for old in LOG_DIR.glob("*.log"):
        old.unlink()
    with ExitStack() as cleanup:
        databases_create()
        if not args.keep:
            cleanup.callback(databases_drop)
        sandbox_env, api, authorization = serve_sandbox(args, cleanup)
        env = {
            **sandbox_env,
            "DATABASE_URL": f"{PG}/{DASHBOARD_DB}",
            "SANDBOX_ENABLED": "False",
            "LEADS_API_URL": api,
            "LEADS_API_KEY": authorization,
        }
        base, workers, names = serve_dashboard(args, cleanup, env)
        print(f"serving: dashboard {base}, sandbox {api}; logs in {LOG_DIR}")
        run, jobs, timing = run_load(args, base, workers, names)
        logs = {"dashboard": access_log(args.port), "sandbox": access_log(args.port + 1)}
        met = print_report(args, run, jobs, timing, logs, load_before)
    return 0 if met else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # The ExitStack has stopped every process and dropped the databases by now.
        print("\ninterrupted: every process this benchmark started is stopped", file=sys.stderr)
        sys.exit(130)
