"""Benchmark of the sandbox leads API on SQLite: `uv run python bench/bench_sandbox.py`.

Seeds leads into a temporary SQLite database, serves it with `runserver --noreload`
in a subprocess and measures over HTTP: a find with a three-condition where
(limit 50), a count with the same where, and bulk PATCHes of 1,000 leads. The
server's resident memory is read after the same requests at two lead counts.
Options: --counts 10000,100000 (the last one is timed) --runs 30.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sandbox_server import serving

ROOT = Path(__file__).resolve().parents[1]
MANAGE = [sys.executable, str(ROOT / "manage.py")]
WHERE = (
    "where[processStatuses][in]=Lost,On%20Hold"
    "&where[year][greater_than_equal]=2018"
    "&where[exterior][in]=Red,Blue"
)


def run(env: dict, *args: str) -> str:
    result = subprocess.run(
        [*MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def workload(client: httpx.Client, runs: int) -> dict[str, list[float]]:
    def find():
        response = client.get(f"/leads?{WHERE}&limit=50&depth=0")
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["docs"]) == min(50, body["totalDocs"])

    def count():
        assert client.get(f"/leads/count?{WHERE}").status_code == 200

    for _ in range(3):  # warm up
        find()
        count()
    return {"find": timed(find, runs), "count": timed(count, runs)}


def bulk_patches(client: httpx.Client, runs: int, select: str) -> list[float]:
    times = []
    for run_index in range(runs):
        low = 1000 + run_index * 1000
        url = f"/leads?where[id][greater_than]={low}&where[id][less_than_equal]={low + 1000}"
        started = time.perf_counter()
        response = client.patch(
            url + select, json={"reason": "Duplicate", "exterior": ["Gold", "Red"]}, timeout=120
        )
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["message"] == "Updated 1000 Leads successfully."
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10000,100000")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    if counts[-1] < 6000:
        parser.error("the last count needs at least 6,000 leads (five bulk PATCHes of 1,000)")

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "SANDBOX_ENABLED": "True",
            "DEBUG": "True",
            "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
        }
        env.pop("LEADS_API_URL", None)
        run(env, "migrate", "-v0")
        authorization = run(env, "sandbox_key")
        rows = []
        memory = []
        seeded = 0
        for count in counts:
            started = time.monotonic()
            run(env, "sandbox_seed", "--count", str(count - seeded), "--seed", str(count))
            seed_seconds = time.monotonic() - started
            print(f"seeded {count - seeded} leads (total {count}) in {seed_seconds:.1f} s")
            seeded = count
            with (
                serving(env, authorization) as (server, base),
                httpx.Client(
                    base_url=base, headers={"Authorization": authorization}, timeout=60
                ) as client,
            ):
                results = workload(client, args.runs)
                memory.append((count, rss_mb(server.pid)))
                if count == counts[-1]:
                    results["bulk PATCH 1,000 (select[id])"] = bulk_patches(
                        client, 3, "&select[id]=true"
                    )
                    results["bulk PATCH 1,000 (full docs)"] = bulk_patches(client, 2, "")
                rows.extend((count, name, times) for name, times in results.items())

    print()
    print(f"{'leads':>8}  {'request':<32} {'runs':>4} {'median ms':>10} {'p90 ms':>8}")
    for count, name, times in rows:
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) >= 10 else max(times)
        print(
            f"{count:>8}  {name:<32} {len(times):>4} {statistics.median(times):>10.1f} {p90:>8.1f}"
        )
    print()
    print(f"{'leads':>8}  server RSS after the same requests")
    for count, mb in memory:
        print(f"{count:>8}  {mb:.0f} MB")


if __name__ == "__main__":
    main()
