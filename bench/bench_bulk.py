"""Benchmark bulk edits end to end against the sandbox.

For each size (default 2,000 and 10,000 leads), interleaved in rounds, and in
each round "ours" once per ``BULK_CONCURRENCY`` value (default 1 and 2):

- bare:  a loop of the same chunked PATCHes (``BULK_CHUNK_SIZE`` ids each, the
         same ``id in`` + ``updatedAt <=`` where, the same select and depth) sent
         with one ``httpx.Client``, made and connected before the clock starts,
         each answer parsed as JSON;
- ours:  review (``bulk_operation_prepare``: count, pin every lead page by page,
         sample) in this process, then apply through django.tasks with a real
         ``manage.py db_worker --batch`` subprocess. "run" is the worker's own
         start → finish time stored on the operation. A worker is normally
         already running and warm, so its Python start-up is not counted, and it
         first runs a queued one-lead operation (on a lead outside the measured
         ones) that warms its imports, database connection and API client; the
         worker's peak RSS is its VmHWM (/proc), read until it exits.

Bare and ours run back to back in every round; the targets (ours ≤ 1.10x bare
with one chunk at a time, ≤ 0.7x with two) are judged on the median of the rounds'
own ratios; their spread (lowest to highest) and every round's ratio are printed.

The sandbox is ``runserver`` (DEBUG off, TCP_NODELAY) in a subprocess on a SQLite
database in var/ seeded with ``sandbox_seed``. runserver serves one request at a
time in effect (one process, one GIL, SQLite's one writer): concurrent chunks
need ``--workers N`` (gunicorn, N processes) on PostgreSQL (``--database-url``).

    uv run python bench/bench_bulk.py
    uv run python bench/bench_bulk.py --sizes 1000 5000 --rounds 1 --concurrency 1
    uv run python bench/bench_bulk.py --sizes 10000 --workers 4 \
        --database-url postgres://postgres@127.0.0.1:5432/bench_bulk

``--payload`` measures against the real Payload 3.90.2 server the contract tests
use (tests/contract/payload/run.sh: node 20+ and npm; work dir var/payload-bench,
seeded once per lead count) instead of the sandbox; the dashboard's own records
still go to ``--database-url``. A PATCH there costs about 30 ms a lead, so keep
the sizes small:

    uv run python bench/bench_bulk.py --payload --sizes 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql
from sandbox_server import serving

REPO = Path(__file__).resolve().parents[1]
PAYLOAD_RUN = REPO / "tests" / "contract" / "payload" / "run.sh"
# The issue's targets by BULK_CONCURRENCY: pin + apply within this many times the
# bare loop (judged on the median of each round's own ratio: they run back to back).
TARGETS = {1: 1.10, 2: 0.70}
sys.path.insert(0, str(REPO))

ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-bulk-only-not-secret",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "False",
    "SANDBOX_ENABLED": "True",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    # One team lead applies the measured jobs alone (no second approval).
    "BULK_APPROVAL_THRESHOLD": "1000000",
}


def bare_loop(base: str, authorization: str, ids: list[int], chunk: int, value: str) -> float:
    """The same PATCHes as a bulk run, with nothing around them."""
    from leadsadmin.api.where import compile_where, encode_query
    from leadsadmin.core.values import iso_utc

    since = iso_utc(datetime.now(UTC))
    select = [("depth", "0"), ("select[processStatuses]", "true"), ("select[updatedAt]", "true")]
    body = f'{{"processStatuses":"{value}"}}'.encode()
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    updated = 0
    with httpx.Client(headers=headers, timeout=120) as http:
        # Client built and connected before the clock starts, like the warm worker's.
        http.get(f"{base}/leads/count").raise_for_status()
        started = time.perf_counter()
        for start in range(0, len(ids), chunk):
            where = {
                "and": [
                    {"id": {"in": ids[start : start + chunk]}},
                    {"updatedAt": {"less_than_equal": since}},
                ]
            }
            query = encode_query([*compile_where(where).params, *select])
            response = http.patch(f"{base}/leads?{query}", content=body)
            updated += len(response.json()["docs"])
        elapsed = time.perf_counter() - started
    assert updated == len(ids), f"bare loop updated {updated} of {len(ids)}"
    return elapsed


def ours(user, size: int, value: str, env: dict, warm_id: int, meter: CpuMeter) -> dict:
    from leadsadmin.bulk.changes import Change
    from leadsadmin.bulk.models import BulkOperation
    from leadsadmin.bulk.operations import bulk_operation_apply, bulk_operation_prepare

    # A worker is normally up and warm (modules imported, database connection and
    # API client made by earlier tasks): the worker started below first runs a
    # one-lead operation on a lead outside the measured ones, queued before it.
    warm = bulk_operation_prepare(
        user=user,
        filter_query=f"c0=0&f0=id&op0=equals&v0={warm_id}",
        changes=[Change("processStatuses", "replace", value)],
        reason="benchmark warm-up",
    )
    bulk_operation_apply(operation=warm, user=user)

    query = f"c0=0&f0=id&op0=less_than_equal&v0={size}"
    cpu, started = meter.read(), time.perf_counter()
    operation = bulk_operation_prepare(
        user=user,
        filter_query=query,
        changes=[Change("processStatuses", "replace", value)],
        reason="benchmark",
    )
    review = time.perf_counter() - started
    review_cpu = cpu_used(cpu, meter.read())
    bulk_operation_apply(operation=operation, user=user, confirmation=str(operation.total))
    worker = worker_run(operation.pk, env)
    operation = BulkOperation.objects.get(pk=operation.pk)
    if operation.updated_count != size:
        raise SystemExit(f"run ended {operation.state}: {operation.stop_reason}")
    return {
        "review": review,
        "review_cpu": review_cpu,
        "run": worker["run"],
        "total": review + worker["run"],
        "worker_wall": worker["wall"],
        "worker_peak_mb": worker["peak_mb"],
    }


def worker_run(operation_id: int, env: dict) -> dict:
    """Runs the queued tasks in a real `manage.py db_worker --batch` process:
    the operation's own start → finish time, the worker's wall time and peak RSS."""
    from leadsadmin.bulk.models import BulkOperation

    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # The peak is the worker's own high-water mark (VmHWM, which exec resets),
    # read until it exits: wait4's ru_maxrss also counts the pages it shared with
    # this process between fork and exec, this process's size after its reviews.
    peak_kb = 0
    while True:
        pid, status, _ = os.wait4(worker.pid, os.WNOHANG)
        if pid:
            break
        peak_kb = max(peak_kb, _high_water_kb(worker.pid))
        time.sleep(0.01)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"the worker failed:\n{worker.stderr.read().decode()}")
    operation = BulkOperation.objects.get(pk=operation_id)
    return {
        "run": (operation.finished_at - operation.started_at).total_seconds(),
        "wall": wall,
        "peak_mb": peak_kb / 1024,
    }


def _high_water_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 2], help="BULK_CONCURRENCY values"
    )
    parser.add_argument(
        "--database-url",
        default=f"sqlite:///{REPO / 'var' / 'bench-bulk.sqlite3'}",
        help="emptied first: a SQLite file, or a PostgreSQL database dropped and created",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="serve with gunicorn, this many processes"
    )
    parser.add_argument("--port", type=int, default=0, help="the sandbox's port (0: any free)")
    parser.add_argument(
        "--payload", action="store_true", help="against the real Payload server, not the sandbox"
    )
    args = parser.parse_args()

    fresh_database(args.database_url)
    env = {**os.environ, **ENV, "DATABASE_URL": args.database_url}
    env.pop("LEADS_API_URL", None)
    env.pop("LEADS_API_KEY", None)
    os.environ.update({k: v for k, v in env.items() if k in ENV or k == "DATABASE_URL"})
    os.environ.pop("LEADS_API_URL", None)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from leadsadmin.core.roles import TEAM_LEADS
    from leadsadmin.sandbox.models import ApiKey
    from leadsadmin.sandbox.seed import sandbox_seed

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    leads = max(args.sizes) + 1  # the last one for warm-ups
    if args.payload:
        server = "real Payload 3.90.2 (SQLite)"
        api = serving_payload(leads)
    else:
        leads = sandbox_seed(leads, seed=7)
        _, plain = ApiKey.issue("bench_bulk")
        server = f"gunicorn, {args.workers} workers" if args.workers else "runserver"
        api = serving_sandbox(env, ApiKey.header_value(plain), args)
    with api as (base, authorization, api_pid):
        meter = CpuMeter(api_pid)
        print(f"{server}: {leads:,} leads, ready in {time.perf_counter() - started:.0f} s")
        settings.LEADS_API_URL, settings.LEADS_API_KEY = base, authorization
        worker_env = {**env, "LEADS_API_URL": base, "LEADS_API_KEY": authorization}
        user = User.objects.create_user("bench-lead")
        user.groups.add(Group.objects.get(name=TEAM_LEADS))
        chunk = settings.BULK_CHUNK_SIZE

        load_before = os.getloadavg()
        rows = [
            row
            for size in args.sizes
            for row in measure(
                size, args, base, authorization, user, worker_env, chunk, leads, meter
            )
        ]

    print()
    print(
        f"chunk size {chunk}; {args.rounds} round(s); API: {server}; dashboard and "
        f"sandbox: {env['DATABASE_URL'].split(':')[0]}; ours = review (pin) + worker run; "
        f"{os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print_table(rows)
    print_cpu_table(rows)


@contextmanager
def serving_sandbox(env: dict, authorization: str, args):
    """(base URL, Authorization header, server pid) of the sandbox, served while
    in the block."""
    with serving(env, authorization, workers=args.workers, port=args.port) as (server, base):
        yield base, authorization, server.pid


@contextmanager
def serving_payload(leads: int):
    """(base URL, Authorization header, server pid) of a real Payload server with
    `leads` leads (ids 1..leads), started by the contract tests' run.sh and stopped after."""
    workdir = REPO / "var" / "payload-bench"
    started = subprocess.run(
        [str(PAYLOAD_RUN)],
        env={
            **os.environ,
            "PAYLOAD_REF_WORKDIR": str(workdir),
            "PAYLOAD_REF_LEADS": str(leads),
            "PAYLOAD_REF_PORT": "0",
        },
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        raise SystemExit(f"the Payload server did not start:\n{started.stderr}")
    found = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    try:
        yield found["PAYLOAD_REF_URL"], found["PAYLOAD_REF_KEY"], int(found["PAYLOAD_REF_PID"])
    finally:
        subprocess.run([str(PAYLOAD_RUN), "stop", str(workdir)], capture_output=True)


class CpuMeter:
    """CPU seconds (user + system) used so far by the API server (its process and
    every descendant), by PostgreSQL (its live processes plus what the postmaster
    collected from backends that ended) and by this process. The difference of
    two readings is what a step cost the machine, which bounds its wall time:
    on N cores a step that needs C CPU seconds cannot take less than C / N."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, api_pid: int):
        self.api_pid = api_pid

    def read(self) -> dict[str, float]:
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stats[int(entry.name)] = (entry / "stat").read_text()
                except OSError:
                    continue  # ended meanwhile
        parsed = {pid: self._fields(text) for pid, text in stats.items()}
        api = self._tree(parsed, self.api_pid)
        database = [pid for pid, (name, *_) in parsed.items() if name == "postgres"]
        postmasters = [pid for pid in database if parsed[pid][1] not in database]
        return {
            "api": sum(parsed[pid][2] for pid in api),
            "database": sum(parsed[pid][2] for pid in database)
            + sum(parsed[pid][3] for pid in postmasters),
            "here": time.process_time(),
        }

    def _fields(self, text: str) -> tuple[str, int, float, float]:
        """(command name, parent pid, own CPU, CPU of children it waited for)."""
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / self.TICK
        children = (int(fields[13]) + int(fields[14])) / self.TICK
        return name, int(fields[1]), own, children

    @staticmethod
    def _tree(parsed: dict, root: int) -> list[int]:
        tree, todo = [], [root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(child for child, (_, parent, *_) in parsed.items() if parent == pid)
        return tree


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


_RUNS = itertools.count()


def measure(size, args, base, authorization, user, worker_env, chunk, warm_id, meter) -> list[dict]:
    """`args.rounds` rounds of: the bare loop, then ours once per concurrency."""
    ids = list(range(1, size + 1))
    bare, bare_cpu, runs = [], [], {n: [] for n in args.concurrency}
    for round_no in range(args.rounds):
        cpu = meter.read()
        bare.append(bare_loop(base, authorization, ids, chunk, "On Hold"))
        bare_cpu.append(cpu_used(cpu, meter.read()))
        for concurrency in args.concurrency:
            # Every run changes every lead (and the warm-up lead, shared by all
            # sizes): a value other than the last run's, whatever its size.
            value = ("Lost", "Qualified Lead")[next(_RUNS) % 2]
            env = {**worker_env, "BULK_CONCURRENCY": str(concurrency)}
            run = ours(user, size, value, env, warm_id=warm_id, meter=meter)
            runs[concurrency].append(run)
            print(
                f"  {size:>6,} round {round_no + 1}, BULK_CONCURRENCY={concurrency}: "
                f"bare {bare[-1]:.2f} s, ours {run['total']:.2f} s (review "
                f"{run['review']:.2f} s + run {run['run']:.2f} s) = "
                f"{run['total'] / bare[-1]:.2f}x, worker peak {run['worker_peak_mb']:.0f} MB, "
                f"load {os.getloadavg()[0]:.1f}"
            )
    return [
        {
            "size": size,
            "concurrency": concurrency,
            "bare": bare,
            "review": statistics.median(r["review"] for r in done),
            "run": statistics.median(r["run"] for r in done),
            "ours": statistics.median(r["total"] for r in done),
            # Each round's bare and ours run back to back: the ratio within a round
            # is less exposed to the machine's load swings.
            "rounds": [r["total"] / b for r, b in zip(done, bare, strict=True)],
            "peak": max(r["worker_peak_mb"] for r in done),
            "floors": [
                cpu_floor(b, cpu, r["review_cpu"]) / wall
                for b, cpu, r, wall in zip(bare, bare_cpu, done, bare, strict=True)
            ],
            "bare_cpu": bare_cpu,
            "review_cpu": [r["review_cpu"] for r in done],
        }
        for concurrency, done in runs.items()
    ]


def cpu_floor(bare: float, bare_cpu: dict, review_cpu: dict) -> float:
    """The shortest time ours could take on this machine's cores: the run sends the
    bare loop's PATCHes, so the API and the database spend at least what they spent
    on the bare loop again; add everything the review cost (the worker's own CPU is
    left out, so this is a floor)."""
    needed = bare_cpu["api"] + bare_cpu["database"] + sum(review_cpu.values())
    return needed / os.cpu_count()


def print_cpu_table(rows: list[dict]) -> None:
    print(
        "\n| leads | BULK_CONCURRENCY | bare loop CPU: API + database + client "
        "| review CPU: API + database + dashboard | ours needs at least (CPU) "
        f"| so on {os.cpu_count()} cores ours / bare ≥ (median, spread) |"
    )
    print("|" + "---|" * 6)
    for r in rows:
        bare = {k: statistics.median(c[k] for c in r["bare_cpu"]) for k in r["bare_cpu"][0]}
        review = {k: statistics.median(c[k] for c in r["review_cpu"]) for k in r["review_cpu"][0]}
        needed = bare["api"] + bare["database"] + sum(review.values())
        print(
            f"| {r['size']:,} | {r['concurrency']} "
            f"| {bare['api']:.2f} + {bare['database']:.2f} + {bare['here']:.2f} s "
            f"| {review['api']:.2f} + {review['database']:.2f} + {review['here']:.2f} s "
            f"| {needed:.2f} s | {statistics.median(r['floors']):.2f}x "
            f"({min(r['floors']):.2f}-{max(r['floors']):.2f}) |"
        )


def print_table(rows: list[dict]) -> None:
    print(
        "| leads | BULK_CONCURRENCY | bare PATCH loop (spread) | review (pin) | worker run "
        "| ours total | ours / bare per round: median | spread | each round | target "
        "| worker peak RSS |"
    )
    print("|" + "---|" * 11)
    for r in rows:
        paired = statistics.median(r["rounds"])
        each = " ".join(f"{ratio:.2f}" for ratio in r["rounds"])
        target = TARGETS.get(r["concurrency"])
        verdict = (
            "—" if target is None else f"≤ {target:.2f}x {'met' if paired <= target else 'not met'}"
        )
        print(
            f"| {r['size']:,} | {r['concurrency']} | {statistics.median(r['bare']):.2f} s "
            f"({min(r['bare']):.2f}-{max(r['bare']):.2f}) | {r['review']:.2f} s "
            f"| {r['run']:.2f} s | {r['ours']:.2f} s | {paired:.2f}x "
            f"| {min(r['rounds']):.2f}-{max(r['rounds']):.2f} | {each} | {verdict} "
            f"| {r['peak']:.0f} MB |"
        )


def fresh_database(url: str) -> None:
    """An empty database at `url`: the SQLite file removed, or the PostgreSQL
    database dropped and created again."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as pg:
        pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        pg.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
