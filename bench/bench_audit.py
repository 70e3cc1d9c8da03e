"""Benchmark the audit: its pages' server time, and a revert against the bulk job.

- pages: a database holding 10,000 ended bulk operations (the audit list) and one
  more of 10,000 leads (an operation's page); the time Django takes to answer
  each page (middleware, view, template; no network), measured in this process
  with Django's test client as an auditor: median and p90 of the requests.
- revert: in each round a 10,000-lead bulk job (review + worker run) against the
  sandbox, then the revert of that job (review + worker run); the target is a
  revert ≤ 1.25x the bulk job, judged on the median of each round's ratio. The
  worker is a real `manage.py db_worker --batch` process (bench_bulk.worker_run).

    uv run python bench/bench_audit.py
    uv run python bench/bench_audit.py --operations 2000 --leads 2000 --rounds 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_bulk import ENV, worker_run
from sandbox_server import serving

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PAGE_TARGET_MS = 50
REVERT_TARGET = 1.25


def _operations_fill(user, count: int, leads: int) -> int:
    """`count` ended operations of 3 leads each, and one of `leads` leads; returns its id."""
    from django.utils import timezone

    from leadsadmin.bulk.changes import Change
    from leadsadmin.bulk.models import BulkOperation, PinnedLead

    lost = Change("processStatuses", "replace", "Lost").as_json()
    now = timezone.now()

    def operation(number, total):
        return BulkOperation(
            created_by=user,
            applied_by=user,
            created_at=now - timedelta(minutes=number),
            reason=f"benchmark {number}",
            changes=[lost],
            fields_changed="|processStatuses|",
            values_set="Lost",
            bodies=[{"processStatuses": "Lost"}],
            total=total,
            updated_count=total,
            pinned_since=now,
            state=BulkOperation.State.FINISHED,
        )

    BulkOperation.objects.bulk_create(
        (operation(n, 3) for n in range(1, count + 1)), batch_size=1000
    )
    big = BulkOperation.objects.bulk_create([operation(0, leads)])[0]
    PinnedLead.objects.bulk_create(
        (
            PinnedLead(
                operation=big,
                lead_id=lead_id,
                updated_at="2024-01-01T00:00:00.000Z",
                before={"processStatuses": "On Hold"},
                outcome="updated",
                after={"processStatuses": "Lost"},
            )
            for lead_id in range(1, leads + 1)
        ),
        batch_size=2000,
    )
    return big.pk


def _server_ms(client, url: str, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def pages(args) -> list[tuple[str, float, float]]:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from leadsadmin.core.roles import AUDITORS, TEAM_LEADS

    lead = User.objects.create_user("bench-audit-lead")
    lead.groups.add(Group.objects.get(name=TEAM_LEADS))
    started = time.perf_counter()
    big = _operations_fill(lead, args.operations, args.leads)
    print(
        f"pages: {args.operations:,} operations + one of {args.leads:,} leads written in "
        f"{time.perf_counter() - started:.0f} s"
    )
    auditor = User.objects.create_user("bench-auditor")
    auditor.groups.add(Group.objects.get(name=AUDITORS))
    client = Client()
    client.force_login(auditor)
    urls = [
        ("/audit/ (newest 50 of all)", "/audit/"),
        (
            "/audit/ filtered (user, field, value, reason)",
            "/audit/?user=bench-audit-lead&field=processStatuses&value=lost&reason=benchmark",
        ),
        ("/audit/ page 100", "/audit/?page=100"),
        (f"operation page ({args.leads:,} leads, first 100)", f"/audit/operations/{big}/"),
        ("lead history (lead 1)", "/audit/leads/1/"),
    ]
    for _, url in urls:  # warm: templates compiled, connections open
        client.get(url)
    return [(name, *_server_ms(client, url, args.requests)) for name, url in urls]


def _job(user, query: str, value: str, env: dict) -> tuple[object, float, float]:
    from leadsadmin.bulk.changes import Change
    from leadsadmin.bulk.operations import bulk_operation_apply, bulk_operation_prepare

    started = time.perf_counter()
    operation = bulk_operation_prepare(
        user=user,
        filter_query=query,
        changes=[Change("processStatuses", "replace", value)],
        reason="benchmark",
    )
    review = time.perf_counter() - started
    bulk_operation_apply(operation=operation, user=user, confirmation=str(operation.total))
    return operation, review, worker_run(operation.pk, env)["run"]


def _revert(user, operation, env: dict) -> tuple[float, float]:
    from leadsadmin.bulk.models import BulkOperation
    from leadsadmin.bulk.operations import bulk_operation_apply
    from leadsadmin.bulk.reverting import bulk_revert_prepare

    started = time.perf_counter()
    revert = bulk_revert_prepare(operation=operation, user=user, reason="benchmark revert")
    review = time.perf_counter() - started
    bulk_operation_apply(operation=revert, user=user, confirmation=str(revert.to_change))
    run = worker_run(revert.pk, env)["run"]
    revert = BulkOperation.objects.get(pk=revert.pk)
    assert revert.updated_count == operation.total, (revert.updated_count, revert.stop_reason)
    return review, run


def reverts(args, env: dict) -> list[dict]:
    from django.conf import settings
    from django.contrib.auth.models import Group, User

    from leadsadmin.core.roles import TEAM_LEADS
    from leadsadmin.sandbox.models import ApiKey
    from leadsadmin.sandbox.seed import sandbox_seed

    sandbox_seed(args.leads, seed=7)
    _, plain = ApiKey.issue("bench_audit")
    authorization = ApiKey.header_value(plain)
    user = User.objects.create_user("bench-reverter")
    user.groups.add(Group.objects.get(name=TEAM_LEADS))
    rounds = []
    with serving(env, authorization) as (_, base):
        settings.LEADS_API_URL, settings.LEADS_API_KEY = base, authorization
        worker_env = {**env, "LEADS_API_URL": base, "LEADS_API_KEY": authorization}
        query = f"c0=0&f0=id&op0=less_than_equal&v0={args.leads}"
        for round_no in range(args.rounds):
            value = "Lost" if round_no % 2 == 0 else "On Hold"
            operation, job_review, job_run = _job(user, query, value, worker_env)
            revert_review, revert_run = _revert(user, operation, worker_env)
            job, revert = job_review + job_run, revert_review + revert_run
            rounds.append(
                {
                    "job": job,
                    "revert": revert,
                    "job_review": job_review,
                    "revert_review": revert_review,
                    "ratio": revert / job,
                }
            )
            print(
                f"  round {round_no + 1}: job {job:.2f} s (review {job_review:.2f} + run "
                f"{job_run:.2f}), revert {revert:.2f} s (review {revert_review:.2f} + run "
                f"{revert_run:.2f}) = {revert / job:.2f}x, load {os.getloadavg()[0]:.1f}"
            )
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default=str(REPO / "var" / "bench-audit.sqlite3"))
    args = parser.parse_args()

    db = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {
        **os.environ,
        **ENV,
        "DATABASE_URL": f"sqlite:///{db}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    }
    for name in ("LEADS_API_URL", "LEADS_API_KEY"):
        env.pop(name, None)
        os.environ.pop(name, None)
    os.environ.update(
        {k: v for k, v in env.items() if k in ENV or k in ("DATABASE_URL", "ALLOWED_HOSTS")}
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # DEBUG off, as in production: pages link the hashed static files.
    call_command("collectstatic", interactive=False, verbosity=0)
    load_before = os.getloadavg()[0]
    page_rows = pages(args)
    revert_rows = reverts(args, env)

    print()
    print(
        f"{os.cpu_count()} CPUs; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; SQLite; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"| page | server time median | p90 | ≤ {PAGE_TARGET_MS} ms |")
    print("|---|---|---|---|")
    for name, median, p90 in page_rows:
        verdict = "met" if median <= PAGE_TARGET_MS else "not met"
        print(f"| {name} | {median:.1f} ms | {p90:.1f} ms | {verdict} |")
    print()
    ratios = [r["ratio"] for r in revert_rows]
    paired = statistics.median(ratios)
    print(
        f"| {args.leads:,} leads | bulk job (review + run) | revert (review + run) "
        f"| revert / job, median of rounds | each round | ≤ {REVERT_TARGET}x |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| medians of {len(revert_rows)} rounds "
        f"| {statistics.median(r['job'] for r in revert_rows):.2f} s "
        f"| {statistics.median(r['revert'] for r in revert_rows):.2f} s | {paired:.2f}x "
        f"| {' '.join(f'{x:.2f}' for x in ratios)} "
        f"| {'met' if paired <= REVERT_TARGET else 'not met'} |"
    )


if __name__ == "__main__":
    main()
