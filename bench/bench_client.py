"""Benchmark the leads API client against the sandbox.

1. Overhead: LeadsClient.find / count / get against a bare ``httpx.Client.get`` of the
   exact same URL (same keep-alive pooling, same server), interleaved in blocks so
   drift on a noisy machine hits both sides alike; plus the same comparison through
   an in-process MockTransport, which isolates the client's own CPU cost.
2. ``iter_leads`` over every lead of a 100,000-lead sandbox: time, and this
   process's peak memory growth (peak RSS via /proc, and Python's tracemalloc peak).

The sandbox runs as ``manage.py runserver`` in a subprocess on a temporary SQLite
database seeded with ``sandbox_seed``; this process never loads Django, so its
memory is the client's.

    uv run python bench/bench_client.py                 # 100,000 leads
    uv run python bench/bench_client.py --leads 20000 --calls 200
    uv run python bench/bench_client.py --db var/bench-100k.sqlite3   # keep/reuse the seeded DB
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox_server import prepare_sandbox, serving  # noqa: E402

from leadsadmin.api.client import LeadsClient  # noqa: E402
from leadsadmin.api.where import compile_where, encode_query  # noqa: E402


def sandbox_env(db: Path) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SANDBOX_ENABLED": "True",
        "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
    }
    env.pop("LEADS_API_URL", None)
    return env


def timed_ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def compare(name: str, bare_call, client_call, calls: int) -> dict:
    """Alternate bare and client calls one by one, so load from elsewhere on a shared
    machine lands on both sides; the overhead is the median of paired differences."""
    for _ in range(10):  # warm up connections, caches, the server
        bare_call()
        client_call()
    bare, client = [], []
    for n in range(calls):
        first, second = (bare_call, client_call) if n % 2 else (client_call, bare_call)
        a, b = timed_ms(first), timed_ms(second)
        bare.append(a if first is bare_call else b)
        client.append(b if first is bare_call else a)
    b, c = statistics.median(bare), statistics.median(client)
    paired = statistics.median(x - y for x, y in zip(client, bare, strict=True))
    return {
        "case": name,
        "bare_ms": b,
        "client_ms": c,
        "overhead_ms": paired,
        "overhead_pct": paired / b * 100,
    }


def overhead_cases(base: str, authorization: str, transport=None, calls: int = 300) -> list[dict]:
    headers = {"Authorization": authorization, "Accept": "application/json"}
    bare = httpx.Client(headers=headers, timeout=30, transport=transport)
    client = LeadsClient(base, authorization, 30, transport=transport)
    where = {"or": [{"processStatuses": {"equals": "Lost"}}, {"year": {"greater_than": 2020}}]}
    read = [("limit", "10"), ("page", "1"), ("depth", "0")]
    find_url = f"{base}/leads?{encode_query([*compile_where(where).params, *read])}"
    count_url = f"{base}/leads/count?{encode_query(compile_where(where).params)}"
    get_url = f"{base}/leads/7?depth=0"
    cases = [
        ("find (2-condition where, 10 leads)", find_url, lambda: client.find(where)),
        ("count (same where)", count_url, lambda: client.count(where)),
        ("get (one lead)", get_url, lambda: client.get(7)),
    ]
    rows = []
    for name, url, client_call in cases:
        rows.append(compare(name, lambda url=url: bare.get(url), client_call, calls))
        rows.append(
            compare(
                name + ", bare also parses JSON",
                lambda url=url: bare.get(url).json(),
                client_call,
                calls,
            )
        )
    bare.close()
    client.close()
    return rows


def mock_transport(base: str, authorization: str) -> httpx.MockTransport:
    """Canned answers of realistic size, so only client-side work is measured."""
    with httpx.Client(headers={"Authorization": authorization}) as real:
        find_body = real.get(f"{base}/leads?limit=10&depth=0").content
        lead_body = real.get(f"{base}/leads/7?depth=0").content
    count_body = json.dumps({"totalDocs": 12345}).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = count_body if path.endswith("/count") else find_body
        body = lead_body if path.endswith("/7") else body
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handle)


def peak_rss_mb() -> float:
    return _proc_status("VmHWM")


def rss_mb() -> float:
    return _proc_status("VmRSS")


def _proc_status(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def iterate(base: str, authorization: str, page_size: int, traced: bool) -> dict:
    client = LeadsClient(base, authorization, 60)
    gc.collect()
    if traced:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    reset = reset_peak_rss()
    rss_before = rss_mb()
    started = time.perf_counter()
    count = 0
    for _lead in client.iter_leads(page_size=page_size):
        count += 1
    elapsed = time.perf_counter() - started
    row = {"leads": count, "seconds": elapsed, "page_size": page_size}
    if reset:
        row["peak_rss_growth_mb"] = peak_rss_mb() - rss_before
    if traced:
        row["tracemalloc_peak_mb"] = (tracemalloc.get_traced_memory()[1] - before) / 2**20
        tracemalloc.stop()
    client.close()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300, help="calls per side per case")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--db", type=Path, help="SQLite file to seed (or reuse); default: temp")
    parser.add_argument("--skip-iter", action="store_true", help="only the overhead tables")
    args = parser.parse_args()

    # Production logging: one INFO line per call, formatted, written (to nowhere here).
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger("leadsadmin").addHandler(handler)
    logging.getLogger("leadsadmin").setLevel(logging.INFO)

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db.resolve() if args.db else Path(tmp) / "bench.sqlite3"
        env = sandbox_env(db)
        print(f"sandbox database: {db}")
        total, authorization = prepare_sandbox(env, args.leads, "bench_client")
        with serving(env, authorization) as (_server, base):
            print(f"\nOverhead per call against the sandbox ({args.calls} calls per side)")
            rows = overhead_cases(base, authorization, calls=args.calls)
            print_overhead(rows)
            print("\nClient-side cost only (MockTransport, canned sandbox answers)")
            rows = overhead_cases(
                base, authorization, transport=mock_transport(base, authorization), calls=2000
            )
            print_overhead(rows, unit="us")
            if args.skip_iter:
                return
            print(f"\niter_leads over all {total:,} leads (page size {args.page_size})")
            print(f"{'pass':<22}{'leads':>10}{'seconds':>10}{'leads/s':>10}{'peak growth':>24}")
            plain = iterate(base, authorization, args.page_size, traced=False)
            print(
                f"{'timed (RSS)':<22}{plain['leads']:>10,}{plain['seconds']:>10.1f}"
                f"{plain['leads'] / plain['seconds']:>10,.0f}"
                f"{plain.get('peak_rss_growth_mb', float('nan')):>17.1f} MB RSS"
            )
            traced = iterate(base, authorization, args.page_size, traced=True)
            print(
                f"{'tracemalloc':<22}{traced['leads']:>10,}{traced['seconds']:>10.1f}"
                f"{traced['leads'] / traced['seconds']:>10,.0f}"
                f"{traced['tracemalloc_peak_mb']:>13.1f} MB Python heap"
            )


def print_overhead(rows: list[dict], unit: str = "ms") -> None:
    scale = 1000 if unit == "us" else 1
    print(f"{'case':<48}{'bare':>10}{'client':>10}{'overhead':>12}{'%':>8}")
    print("(bare/client: medians per call; overhead: median of paired differences)")
    for row in rows:
        print(
            f"{row['case']:<48}{row['bare_ms'] * scale:>8.2f}{unit}"
            f"{row['client_ms'] * scale:>8.2f}{unit}"
            f"{row['overhead_ms'] * scale:>10.2f}{unit}{row['overhead_pct']:>7.1f}%"
        )


if __name__ == "__main__":
    main()
