"""Benchmark bulk edits end to end against the sandbox.

For each size (default 2,000 and 10,000 leads), interleaved in rounds:

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
         worker's peak RSS comes from wait4() on that process.

Bare and ours run back to back in every round; the target (ours ≤ 1.25x bare) is
judged on the median of the rounds' own ratios, and every round's ratio is printed.

The sandbox is ``runserver`` (DEBUG off, TCP_NODELAY) in a subprocess on a SQLite
database in var/ seeded with ``sandbox_seed``.

    uv run python bench/bench_bulk.py
    uv run python bench/bench_bulk.py --sizes 1000 5000 --rounds 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sandbox_server import serving

REPO = Path(__file__).resolve().parents[1]
# The issue's target: pin + apply within 1.25x the bare loop (judged on the
# median of each round's own ratio: bare and ours run back to back).
TARGET = 1.25
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


def ours(user, size: int, value: str, env: dict, warm_id: int) -> dict:
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
    started = time.perf_counter()
    operation = bulk_operation_prepare(
        user=user,
        filter_query=query,
        changes=[Change("processStatuses", "replace", value)],
        reason="benchmark",
    )
    review = time.perf_counter() - started
    bulk_operation_apply(operation=operation, user=user, confirmation=str(operation.total))
    worker = worker_run(operation.pk, env)
    operation = BulkOperation.objects.get(pk=operation.pk)
    if operation.updated_count != size:
        raise SystemExit(f"run ended {operation.state}: {operation.stop_reason}")
    return {
        "review": review,
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
    _, status, usage = os.wait4(worker.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"the worker failed:\n{worker.stderr.read().decode()}")
    operation = BulkOperation.objects.get(pk=operation_id)
    return {
        "run": (operation.finished_at - operation.started_at).total_seconds(),
        "wall": wall,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10_000])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", default=str(REPO / "var" / "bench-bulk.sqlite3"))
    args = parser.parse_args()

    db = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, **ENV, "DATABASE_URL": f"sqlite:///{db}"}
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
    leads = sandbox_seed(max(args.sizes) + 1, seed=7)  # the last one for warm-ups
    _, plain = ApiKey.issue("bench_bulk")
    authorization = ApiKey.header_value(plain)
    print(f"sandbox: {leads:,} leads seeded in {time.perf_counter() - started:.0f} s ({db})")

    with serving(env, authorization) as (_, base):
        settings.LEADS_API_URL, settings.LEADS_API_KEY = base, authorization
        worker_env = {**env, "LEADS_API_URL": base, "LEADS_API_KEY": authorization}
        user = User.objects.create_user("bench-lead")
        user.groups.add(Group.objects.get(name=TEAM_LEADS))
        chunk = settings.BULK_CHUNK_SIZE

        rows = []
        load_before = os.getloadavg()
        for size in args.sizes:
            ids = list(range(1, size + 1))
            bare, runs = [], []
            for round_no in range(args.rounds):
                bare.append(bare_loop(base, authorization, ids, chunk, "On Hold"))
                value = "Lost" if round_no % 2 == 0 else "Qualified Lead"
                runs.append(ours(user, size, value, worker_env, warm_id=leads))
                print(
                    f"  {size:>6,} round {round_no + 1}: bare {bare[-1]:.2f} s, "
                    f"ours {runs[-1]['total']:.2f} s (review {runs[-1]['review']:.2f} s + "
                    f"run {runs[-1]['run']:.2f} s) = {runs[-1]['total'] / bare[-1]:.2f}x, "
                    f"worker peak {runs[-1]['worker_peak_mb']:.0f} MB, "
                    f"load {os.getloadavg()[0]:.1f}"
                )
            b = statistics.median(bare)
            o = statistics.median(r["total"] for r in runs)
            rows.append(
                {
                    "size": size,
                    "bare": b,
                    "review": statistics.median(r["review"] for r in runs),
                    "run": statistics.median(r["run"] for r in runs),
                    "ours": o,
                    "ratio": o / b,
                    # Each round's bare and ours run back to back: the ratio within a
                    # round is less exposed to the machine's load swings.
                    "rounds": [
                        r["total"] / bare_time for r, bare_time in zip(runs, bare, strict=True)
                    ],
                    "peak": max(r["worker_peak_mb"] for r in runs),
                    "wall": statistics.median(r["worker_wall"] for r in runs),
                }
            )

    print()
    print(
        f"chunk size {chunk}; medians of {args.rounds} round(s); ours = review (pin) + worker run; "
        f"{os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    header = (
        "| leads | bare PATCH loop | review (pin) | worker run | ours total | ours / bare "
        "| per round (median) | each round | ≤ 1.25x | worker peak RSS | worker wall incl. start |"
    )
    print(header)
    print("|" + "---|" * 11)
    for r in rows:
        paired = statistics.median(r["rounds"])
        each = " ".join(f"{ratio:.2f}" for ratio in r["rounds"])
        verdict = "met" if paired <= TARGET else "not met"
        print(
            f"| {r['size']:,} | {r['bare']:.2f} s | {r['review']:.2f} s | {r['run']:.2f} s "
            f"| {r['ours']:.2f} s | {r['ratio']:.2f}x | {paired:.2f}x | {each} | {verdict} "
            f"| {r['peak']:.0f} MB | {r['wall']:.2f} s |"
        )


if __name__ == "__main__":
    main()
