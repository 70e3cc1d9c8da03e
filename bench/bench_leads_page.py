"""Benchmark the leads page (issue 5) against the sandbox over real HTTP.

1. The full /leads/ page with an empty filter (builder, saved filters, a 25-row
   preview): median server time and HTML size.
2. A 50-row preview (the htmx fragment that sorting and paging fetch) against the
   client's own ``find`` for the same where, columns and depth, interleaved in
   blocks so machine noise hits both.
3. /leads/export.csv of every lead (100,000 by default): time, rows, and this
   process's memory while streaming (RSS sampled every 10,000 rows, and the peak);
   then the same sorted by city, a text column without an index.

The sandbox runs as ``manage.py runserver`` in a subprocess on a SQLite database
seeded with ``sandbox_seed``; the dashboard runs in this process through Django's
test client, so "server time" is the time Django spends on the request, including
its API call to the sandbox.

    uv run python bench/bench_leads_page.py                  # 100,000 leads
    uv run python bench/bench_leads_page.py --leads 20000 --calls 60
    uv run python bench/bench_leads_page.py --db var/bench-leads.sqlite3   # reuse the seeded DB
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from sandbox_server import prepare_sandbox, serving

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WHERE_QUERY = "c0=0&f0=processStatuses&op0=equals&v0=Lost&c1=1&f1=year&op1=greater_than&v1=2020"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def cpu_ms(call) -> float:
    """This process's CPU time for `call`: the sandbox's work (another process) and
    waiting for a busy CPU are left out, so it holds up on a loaded machine."""
    started = time.process_time()
    call()
    return (time.process_time() - started) * 1000


class FindTimer:
    """Wraps the process-wide client's ``find`` to record how long each call took,
    so a request's own time (its total minus its API wait) can be told apart."""

    def __init__(self):
        from leadsadmin.api import get_client

        self.client = get_client()
        self.real_find = self.client.find
        self.times: list[float] = []

    def __enter__(self):
        def timed_find(*args, **kwargs):
            started = time.perf_counter()
            try:
                return self.real_find(*args, **kwargs)
            finally:
                self.times.append((time.perf_counter() - started) * 1000)

        self.client.find = timed_find
        return self

    def __exit__(self, *exc_info):
        del self.client.find

    def own_ms(self, call) -> float:
        self.times.clear()
        return timed_ms(call) - sum(self.times)


def full_page(browser, calls: int) -> dict:
    def page():
        browser.get("/leads/")

    for _ in range(5):
        page()
    times = [timed_ms(page) for _ in range(calls)]
    cpu = [cpu_ms(page) for _ in range(calls)]
    with FindTimer() as timer:
        own = [timer.own_ms(page) for _ in range(calls)]
    html = browser.get("/leads/").content
    assert b"leads match" in html, "the preview did not run"
    return {
        "median_ms": statistics.median(times),
        "p90_ms": _p90(times),
        "own_ms": statistics.median(own),
        "cpu_ms": statistics.median(cpu),
        "html_kb": len(html) / 1024,
    }


def preview_vs_find(browser, calls: int, block: int = 10) -> dict:
    """The preview's cost over ``find``, three ways: interleaved wall-clock medians
    of the preview request and of a bare ``find``; inside each preview request, its
    time minus its own ``find``; and this process's CPU time for each."""
    from django.http import QueryDict

    from leadsadmin.leads.columns import DEFAULT_COLUMNS, columns_select, needs_population
    from leadsadmin.leads.filters import filter_from_querydict, where_from_filter
    from leadsadmin.leads.preview import DEFAULT_API_SORT

    where = where_from_filter(filter_from_querydict(QueryDict(WHERE_QUERY)))
    url = f"/leads/?{WHERE_QUERY}&size=50"
    select = columns_select(DEFAULT_COLUMNS)

    def preview():
        response = browser.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="preview")
        assert response.status_code == 200 and b"leads match" in response.content

    with FindTimer() as timer:

        def find():
            # as the preview asks: newest first, the sales rep populated
            depth = 1 if needs_population(DEFAULT_COLUMNS) else 0
            timer.real_find(
                where=where, sort=DEFAULT_API_SORT, limit=50, page=1, depth=depth, select=select
            )

        for _ in range(5):
            preview()
            find()
        previews, finds, own, preview_cpu, find_cpu = [], [], [], [], []
        for _ in range(max(1, calls // block)):
            previews += [timed_ms(preview) for _ in range(block)]
            finds += [timed_ms(find) for _ in range(block)]
            own += [timer.own_ms(preview) for _ in range(block)]
            preview_cpu += [cpu_ms(preview) for _ in range(block)]
            find_cpu += [cpu_ms(find) for _ in range(block)]
    p, f = statistics.median(previews), statistics.median(finds)
    return {
        "preview_ms": p,
        "find_ms": f,
        "extra_ms": p - f,
        "extra_pct": (p - f) / f * 100,
        "own_ms": statistics.median(own),
        "preview_cpu_ms": statistics.median(preview_cpu),
        "find_cpu_ms": statistics.median(find_cpu),
    }


def export_all(browser, sort: str = "") -> dict:
    """The export of every lead, in the table's order: newest first, or `sort`."""
    rss_start = rss_mb()
    started = time.perf_counter()
    query = {"cols": "name,email,phone,year", **({"sort": sort} if sort else {})}
    response = browser.get("/leads/export.csv?" + urlencode(query))
    rows, size, samples = -1, 0, []
    pending = b""
    for chunk in response.streaming_content:
        size += len(chunk)
        pending += chunk
        lines = pending.count(b"\n")
        pending = b""
        before = rows
        rows += lines
        if rows // 10_000 != before // 10_000 and rows >= 10_000:
            samples.append((rows // 10_000 * 10_000, rss_mb() - rss_start))
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "mb": size / 2**20, "rss_growth": samples}


def _p90(values):
    return sorted(values)[int(len(values) * 0.9) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--db", default=str(REPO / "var" / "bench-leads.sqlite3"))
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{Path(args.db).resolve()}",
        "SANDBOX_ENABLED": "True",
        "DJANGO_SETTINGS_MODULE": "leadsadmin.settings",
        "DEBUG": "False",
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("LEADS_API_URL", None)
    env.pop("LEADS_API_KEY", None)
    leads, authorization = prepare_sandbox(env, args.leads, "bench_leads_page")
    with serving(env, authorization) as (_, base):
        os.environ.update(env)
        os.environ["LEADS_API_URL"] = base
        os.environ["LEADS_API_KEY"] = authorization
        import django

        django.setup()
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command
        from django.test import Client

        # DEBUG off, as in production: pages link the hashed static files.
        call_command("collectstatic", interactive=False, verbosity=0)

        user, _ = User.objects.get_or_create(username="bench-leads")
        user.groups.add(Group.objects.get(name="Sales ops"))
        browser = Client()
        browser.force_login(user)

        page = full_page(browser, args.calls)
        preview = preview_vs_find(browser, args.calls)
        export = export_all(browser)
        by_city = export_all(browser, sort="city")  # a text column without an index

    print(f"\nLeads page benchmark, {leads:,} leads in the sandbox, {args.calls} calls per case")
    print("(median/p90: wall-clock server time incl. the API call; CPU: this process only)\n")
    print(f"{'case':<44}{'median':>10}{'p90':>10}{'own':>10}{'CPU':>10}{'HTML':>10}")
    print(
        f"{'full /leads/ page, empty filter':<44}{page['median_ms']:>8.1f}ms"
        f"{page['p90_ms']:>8.1f}ms{page['own_ms']:>8.1f}ms{page['cpu_ms']:>8.1f}ms"
        f"{page['html_kb']:>8.1f}KB"
    )
    print("  (own: the request's time minus its API call)")
    print(f"\n{'case':<44}{'preview':>10}{'find':>10}{'extra':>10}{'extra %':>10}")
    print(
        f"{'50-row preview vs client.find (same where)':<44}{preview['preview_ms']:>8.1f}ms"
        f"{preview['find_ms']:>8.1f}ms{preview['extra_ms']:>8.1f}ms{preview['extra_pct']:>9.0f}%"
    )
    print(
        f"{'  same, measured inside each request':<44}{'':>10}{'':>10}"
        f"{preview['own_ms']:>8.1f}ms   (request time minus its own find)"
    )
    cpu_extra = preview["preview_cpu_ms"] - preview["find_cpu_ms"]
    print(
        f"{'  same, CPU time of this process':<44}{preview['preview_cpu_ms']:>8.1f}ms"
        f"{preview['find_cpu_ms']:>8.1f}ms{cpu_extra:>8.1f}ms"
    )
    print(
        f"\nexport.csv: {export['rows']:,} leads, {export['mb']:.1f} MB CSV in "
        f"{export['seconds']:.1f} s ({export['rows'] / export['seconds']:,.0f} leads/s)"
    )
    print(
        f"export.csv sorted by city: {by_city['rows']:,} leads in {by_city['seconds']:.1f} s "
        f"({by_city['rows'] / by_city['seconds']:,.0f} leads/s)"
    )
    print(f"{'rows streamed':>14}  RSS growth since the request started (newest first)")
    for rows, growth in export["rss_growth"]:
        print(f"{rows:>14,}  {growth:+.1f} MB")


if __name__ == "__main__":
    main()
