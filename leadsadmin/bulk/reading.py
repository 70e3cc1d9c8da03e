"""Reading every lead a review pins, in parallel id ranges where the settings allow.

A review reads each matched lead once (every field: bulk/snapshots.py). One
keyset iteration is a chain of requests each waiting for the last; splitting
the id span into BULK_REVIEW_READERS ranges read side by side lets the API work
on several pages at once. That only helps where the API has capacity to spare:
against the sandbox on two cores a 10,000-lead review took 1.74 s with one reader
and 1.03 s with three, but with 20 people browsing meanwhile it took about as long
either way, and the previews started during reviews had a p95 of 400-890 ms with
two or three readers against 180-260 ms with one (bench/bench_bulk.py,
bench/bench_load.py). Pages arrive in no particular order;
memory stays at a few pages whatever the number of leads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from leadsadmin.leads.filters import where_and

_DONE = object()


def matched_lead_pages(
    client,
    where: dict,
    *,
    select: list[str],
    count: int,
    page_size: int,
    first_id: int | None = None,
) -> Iterator[list[dict]]:
    """Every lead matching `where` (about `count` of them, the lowest id
    `first_id` if the caller knows it), as pages of docs."""
    ranges = _id_ranges(client, where, count, page_size, first_id)
    if len(ranges) == 1:
        yield from _pages(
            client.iter_leads(where=where or None, page_size=page_size, select=select), page_size
        )
        return
    # Threads, not asyncio: the client is synchronous httpx, and a reader spends
    # its time waiting on the network (the GIL is free meanwhile). The queue is
    # bounded, so readers wait for the review to keep up: memory stays flat.
    pages = _PageQueue(maxsize=2 * len(ranges))
    with ThreadPoolExecutor(max_workers=len(ranges), thread_name_prefix="bulk-pin-reader") as pool:
        for low, high in ranges:
            pool.submit(
                _read_range, client, where_and(where, _bounds(low, high)), select, page_size, pages
            )
        try:
            yield from pages.until_done(readers=len(ranges))
        finally:
            pages.stop.set()  # readers still going give up at their next page


class _PageQueue:
    """Pages from the readers to the review; a reader's exception travels in it
    too and is raised in the review, and `stop` tells readers to give up."""

    def __init__(self, maxsize: int):
        self.queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self.stop = threading.Event()

    def put(self, item) -> None:
        # A timeout, so a reader blocked on a full queue notices `stop`.
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def until_done(self, *, readers: int) -> Iterator[list[dict]]:
        while readers:
            item = self.queue.get()
            if item is _DONE:
                readers -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item


def _read_range(client, where: dict, select: list[str], page_size: int, pages: _PageQueue) -> None:
    try:
        docs = client.iter_leads(where=where, page_size=page_size, select=select)
        for page in _pages(docs, page_size):
            if pages.stop.is_set():
                return
            pages.put(page)
    except BaseException as exc:  # handed to the review, raised there
        pages.put(exc)
    finally:
        pages.put(_DONE)


def _bounds(low: int, high: int | None) -> list[dict]:
    bounds = [{"id": {"greater_than_equal": low}}]
    if high is not None:
        bounds.append({"id": {"less_than": high}})
    return bounds


def _id_ranges(client, where, count, page_size, first_id) -> list[tuple[int, int | None]]:
    """[low, high) id ranges splitting the matches' id span evenly, one per reader;
    one range (no lookups) for one reader, or when a couple of pages hold them all."""
    readers = settings.BULK_REVIEW_READERS
    if readers == 1 or count <= 2 * page_size:
        return [(0, None)]
    if first_id is None:
        first = client.find(where=where or None, sort="id", limit=1, select=["id"]).docs
        first_id = first[0]["id"] if first else None
    last = client.find(where=where or None, sort="-id", limit=1, select=["id"]).docs
    if first_id is None or not last:
        return [(0, None)]
    low, high = first_id, last[0]["id"] + 1
    step = max(1, -(-(high - low) // readers))
    edges = list(range(low, high, step))
    return [(edge, edge + step) for edge in edges[:-1]] + [(edges[-1], None)]


def _pages(docs, page_size: int) -> Iterator[list[dict]]:
    page = []
    for doc in docs:
        page.append(doc)
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page
