"""The shared limit on calls to the leads API (api/limits.py): slots for calls at
once, a budget per second, the pause after a 429. Unit tests on the local-memory
cache with a clock that moves only when someone sleeps; the `redis` ones share
one Redis between clients that each have their own connection, as separate
workers and servers do."""

import os
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack

import httpx
import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from leadsadmin.api import get_client
from leadsadmin.api.client import LeadsClient
from leadsadmin.api.errors import ApiBusy, RateLimited
from leadsadmin.api.limits import ApiLimiter

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
BASE = "http://leads.test/api"
EMPTY_PAGE = {"docs": [], "totalDocs": 0, "limit": 10, "page": 1, "totalPages": 1}


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self, now: float = 1_800_000_000.3):
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def own_cache() -> LocMemCache:
    return LocMemCache(f"test-limits-{uuid.uuid4()}", {})


def limiter(cache=None, fake: FakeTime | None = None, **limits) -> ApiLimiter:
    fake = fake or FakeTime()
    return ApiLimiter(cache or own_cache(), clock=fake.clock, sleep=fake.sleep, **limits)


def turn(limit: ApiLimiter, timeout: float = 5.0):
    return limit.turn(timeout=timeout, max_pause=60.0)


class ConcurrencyMeter(httpx.BaseTransport):
    """Answers every call after `seconds`, counting how many were in flight at
    once and when each started."""

    def __init__(self, seconds: float = 0.0, answer=None):
        self.seconds = seconds
        self.answer = answer or (lambda request: httpx.Response(200, json=EMPTY_PAGE))
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.started: list[float] = []

    def handle_request(self, request):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.started.append(time.time())
        try:
            time.sleep(self.seconds)
            return self.answer(request)
        finally:
            with self.lock:
                self.now -= 1


def client(transport, limit: ApiLimiter, fake: FakeTime | None = None) -> LeadsClient:
    clocks = {"clock": fake.clock, "sleep": fake.sleep} if fake else {}
    return LeadsClient(BASE, "users API-Key test-key-0", 5.0, transport, limiter=limit, **clocks)


def in_threads(count: int, work) -> None:
    errors = []

    def run(n):
        try:
            work(n)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# --- local memory ---------------------------------------------------------------


def test_without_limits_a_turn_takes_no_slot_and_counts_nothing():
    cache = own_cache()
    with turn(limiter(cache)) as paused:
        assert paused == 0.0
    assert cache._cache == {}


def test_no_more_slots_than_allowed_then_a_clear_error():
    fake = FakeTime()
    limit = limiter(fake=fake, max_concurrent=2)
    with ExitStack() as held:
        held.enter_context(turn(limit))
        held.enter_context(turn(limit))
        with pytest.raises(ApiBusy) as caught, turn(limit, timeout=0.5):
            pass
        assert "LEADS_API_MAX_CONCURRENT" in str(caught.value)
        assert 0.5 <= sum(fake.sleeps) < 0.6  # it waited the request timeout
    with turn(limit):  # given back: free again
        pass


def test_a_slot_whose_holder_died_comes_free_after_its_hold():
    limit = ApiLimiter(own_cache(), max_concurrent=1, hold=0.05)
    dead = limit.turn(timeout=1, max_pause=0)
    dead.__enter__()  # taken and never given back (kept referenced: no finally runs)
    started = time.monotonic()
    with limit.turn(timeout=1, max_pause=0):
        assert 0.04 <= time.monotonic() - started < 0.9


def test_the_per_second_budget_spreads_calls_over_the_seconds():
    fake = FakeTime(now=1_800_000_000.3)
    limit = limiter(fake=fake, max_per_second=3)
    seconds = Counter()
    for _ in range(7):
        with turn(limit):
            seconds[int(fake.now)] += 1
    assert seconds == {1_800_000_000: 3, 1_800_000_001: 3, 1_800_000_002: 1}


def test_a_per_second_budget_used_up_past_the_timeout_is_a_clear_error():
    limit = limiter(max_per_second=1)
    with turn(limit):
        pass
    with pytest.raises(ApiBusy, match="LEADS_API_MAX_PER_SECOND"), turn(limit, timeout=0.1):
        pass


def test_calls_through_one_limiter_never_exceed_its_slots():
    meter = ConcurrencyMeter(seconds=0.02)
    api = client(meter, ApiLimiter(own_cache(), max_concurrent=2))
    in_threads(6, lambda n: [api.find() for _ in range(3)])
    assert meter.most == 2
    assert len(meter.started) == 18


def test_a_429_pauses_every_client_sharing_the_limiter():
    """One client's 429 sets the shared pause; another client waits it out before
    its own call goes out."""
    fake = FakeTime()
    limit = limiter(fake=fake)
    sent_at = []

    def answers(request):
        sent_at.append(fake.now)
        if len(sent_at) == 1:
            return httpx.Response(429, json={}, headers={"Retry-After": "5"})
        return httpx.Response(200, json=EMPTY_PAGE)

    started = fake.now
    assert client(httpx.MockTransport(answers), limit, fake).find().total_docs == 0
    assert limit.paused_until() == started + 5
    assert sent_at == [started, started + 5]

    limit.pause_until(fake.now + 4)  # as another client's 429 would
    client(httpx.MockTransport(answers), limit, fake).find()
    assert sent_at[-1] == started + 9
    assert fake.sleeps == [5.0, 4.0]


def test_a_pause_longer_than_a_call_may_wait_is_rate_limited_without_sending():
    fake = FakeTime()
    limit = limiter(fake=fake)
    limit.pause_until(fake.now + 90)
    meter = ConcurrencyMeter()
    with pytest.raises(RateLimited, match=r"rate-limiting us \(429\)"):
        client(meter, limit, fake).find()
    assert meter.started == []
    assert fake.sleeps == []


def test_get_client_builds_its_limiter_from_the_settings(settings):
    settings.LEADS_API_MAX_CONCURRENT, settings.LEADS_API_MAX_PER_SECOND = 3, 7
    limit = get_client()._limiter
    assert (limit.max_concurrent, limit.max_per_second) == (3, 7)
    settings.LEADS_API_MAX_CONCURRENT = 4
    assert get_client()._limiter.max_concurrent == 4  # rebuilt for the new limit


# --- Redis: several clients, each with its own connection -------------------------------


@pytest.fixture
def redis_caches():
    """(make) → a new RedisCache client on one Redis database, every one with the
    same key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-limits-{uuid.uuid4().hex}"
    made = []

    def make():
        cache = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
        made.append(cache)
        return cache

    yield make
    if made:
        raw = made[0]._cache.get_client(write=True)
        keys = list(raw.scan_iter(f"{prefix}:*"))
        if keys:
            raw.delete(*keys)


@pytest.mark.redis
def test_on_redis_separate_clients_share_the_slots(redis_caches):
    meter = ConcurrencyMeter(seconds=0.03)

    def work(n):
        own = client(meter, ApiLimiter(redis_caches(), max_concurrent=2))
        for _ in range(3):
            own.find()

    in_threads(6, work)
    assert meter.most == 2
    assert len(meter.started) == 18


@pytest.mark.redis
def test_on_redis_separate_clients_share_the_budget_per_second(redis_caches):
    meter = ConcurrencyMeter()

    def work(n):
        own = client(meter, ApiLimiter(redis_caches(), max_per_second=20))
        for _ in range(10):
            own.find()

    in_threads(3, work)
    per_second = Counter(int(moment) for moment in meter.started)
    assert sum(per_second.values()) == 30
    assert max(per_second.values()) <= 20
    assert len(per_second) >= 2


@pytest.mark.redis
def test_on_redis_a_pause_reaches_every_client(redis_caches):
    one, other = ApiLimiter(redis_caches()), ApiLimiter(redis_caches())
    moment = time.time() + 30
    one.pause_until(moment)
    assert other.paused_until() == moment
    other.pause_until(moment - 10)  # an earlier end does not shorten it
    assert one.paused_until() == moment
