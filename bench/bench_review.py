"""Benchmark the review of a bulk edit (pinning) alone, against the sandbox.

Times `bulk_operation_prepare` for each size (default 10,000 leads) in this
process: the count, reading every matched lead page by page, the pins' insert
and the review's counts and sample. Besides wall time it reports the CPU time
the review and the sandbox server spent, which a busy machine disturbs less.
The sandbox is `runserver` in a subprocess (bench/sandbox_server.py) on a
SQLite database in var/ seeded with `sandbox_seed`; the pins go to a second
SQLite database.

    uv run python bench/bench_review.py
    uv run python bench/bench_review.py --sizes 2000 10000 --rounds 5 --port 8130
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sandbox_server

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-review-only-not-secret",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "False",
    "SANDBOX_ENABLED": "True",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def review(user, size: int, value: str, server_pid: int) -> tuple[float, float, float, int]:
    """One review of the first `size` leads: its wall time, the CPU time this
    process and the sandbox server spent on it (steady when the machine is
    busy, unlike wall time), and the pins' stored JSON bytes."""
    from django.db import connection
    from django.db.models import JSONField

    from leadsadmin.bulk.changes import Change
    from leadsadmin.bulk.models import PinnedLead
    from leadsadmin.bulk.operations import bulk_operation_prepare
    from leadsadmin.core.jsontext import JSONTextField

    started, cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
    operation = bulk_operation_prepare(
        user=user,
        filter_query=f"c0=0&f0=id&op0=less_than_equal&v0={size}",
        changes=[Change("notes", "replace", value)],
        reason="benchmark",
    )
    elapsed = time.perf_counter() - started
    cpu, server_cpu = time.process_time() - cpu, cpu_seconds(server_pid) - server_cpu
    assert operation.total == size, f"pinned {operation.total} of {size}"
    table = connection.ops.quote_name(PinnedLead._meta.db_table)
    columns = [
        f.column
        for f in PinnedLead._meta.concrete_fields
        if isinstance(f, JSONField | JSONTextField)
    ]
    lengths = " + ".join(f"coalesce(length({connection.ops.quote_name(c)}), 0)" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sum({lengths}) FROM {table} WHERE operation_id = %s", [operation.pk]
        )
        stored = cursor.fetchone()[0]
    return elapsed, cpu, server_cpu, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=0, help="the sandbox's port (0: any free one)")
    parser.add_argument("--db", default=str(REPO / "var" / "bench-review-sandbox.sqlite3"))
    args = parser.parse_args()

    sandbox_db, pins_db = Path(args.db), Path(args.db).with_suffix(".pins.sqlite3")
    for path in (sandbox_db, pins_db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, **ENV, "DATABASE_URL": f"sqlite:///{sandbox_db}"}
    env.pop("LEADS_API_URL", None)
    env.pop("LEADS_API_KEY", None)
    _, authorization = sandbox_server.prepare_sandbox(env, max(args.sizes), "bench_review")
    os.environ.update({**ENV, "DATABASE_URL": f"sqlite:///{pins_db}"})
    os.environ.pop("LEADS_API_URL", None)
    if args.port:
        sandbox_server.free_port = lambda: args.port

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from leadsadmin.core.roles import TEAM_LEADS

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench-review")
    user.groups.add(Group.objects.get(name=TEAM_LEADS))

    rows = []
    with sandbox_server.serving(env, authorization) as (server, base):
        settings.LEADS_API_URL, settings.LEADS_API_KEY = base, authorization
        review(user, min(args.sizes), "benchmark warm-up", server.pid)  # imports, connections
        for size in args.sizes:
            runs, stored = [], 0
            for round_no in range(args.rounds):
                # A value no lead holds yet: every lead is pinned.
                *run, stored = review(user, size, f"benchmark {size} round {round_no}", server.pid)
                runs.append(run)
                print(
                    f"  {size:>6,} round {round_no + 1}: {run[0]:.2f} s "
                    f"(CPU: review {run[1]:.2f} s, sandbox {run[2]:.2f} s)"
                )
            medians = [statistics.median(column) for column in zip(*runs, strict=True)]
            rows.append((size, *medians, stored))

    print()
    print(
        f"medians of {args.rounds} round(s); {os.cpu_count()} CPUs; load average "
        f"{os.getloadavg()[0]:.1f}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print("| leads | review (wall) | review's CPU | sandbox's CPU | pins' JSON stored |")
    print("|---|---|---|---|---|")
    for size, wall, cpu, server_cpu, stored in rows:
        print(
            f"| {size:,} | {wall:.2f} s | {cpu:.2f} s | {server_cpu:.2f} s "
            f"| {stored / 1e6:.1f} MB |"
        )


if __name__ == "__main__":
    main()
