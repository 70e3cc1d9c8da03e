"""The limit on calls to the leads API that every thread, worker and app server
shares: at most ``LEADS_API_MAX_CONCURRENT`` requests at once and
``LEADS_API_MAX_PER_SECOND`` started per second (0: no limit), plus a pause
everyone keeps after the API answered 429.

The counters live in Django's cache (``CACHE_URL``): Redis shares them between
machines; the local-memory cache (the default) only between the threads of one
process, so with several processes each gets the whole budget.

- concurrency: N slot keys; a request takes a free one with the atomic
  ``cache.add`` and deletes it when done. A slot expires after ``hold`` seconds
  (the request timeout and a margin), so a killed holder's slot comes free again.
- per second: one counter per wall-clock second, made with ``cache.add`` and
  counted with the atomic ``cache.incr``; over budget, wait for the next second.
- pause: "paused until" (epoch seconds), set after a 429; waited out before any
  request starts.

Waiting is bounded: no slot or budget within the request timeout raises ApiBusy,
a pause longer than the caller may wait raises RateLimited.
"""

from __future__ import annotations

import random
import time
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache as default_cache
from django.core.cache.backends.locmem import LocMemCache

from leadsadmin.api.errors import ApiBusy, RateLimited

# How long a waiting request sleeps between looks for a free slot (jittered).
SLOT_POLL_SECONDS = 0.02
# A slot outlives its request's timeout by this much before it expires on its own.
HOLD_MARGIN_SECONDS = 10.0


class ApiLimiter:
    def __init__(
        self,
        cache=None,
        *,
        max_concurrent: int = 0,
        max_per_second: int = 0,
        hold: float = 40.0,
        prefix: str = "leadsadmin:api",
        clock=time.time,
        sleep=time.sleep,
    ):
        # No cache given: one of this limiter's own (nothing shared, even in-process).
        self.cache = cache if cache is not None else LocMemCache(f"limiter-{uuid.uuid4()}", {})
        self.max_concurrent = max(0, int(max_concurrent))
        self.max_per_second = max(0, int(max_per_second))
        self.hold = hold
        self.prefix = prefix
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        return (
            f"ApiLimiter(max_concurrent={self.max_concurrent}, "
            f"max_per_second={self.max_per_second}, cache={type(self.cache).__name__})"
        )

    @contextmanager
    def turn(self, *, timeout: float, max_pause: float):
        """Waits until a request may start (the pause is over, a slot is free and
        this second has budget left) and holds its slot until the block ends;
        gives the seconds spent waiting out a pause. ``timeout`` bounds the wait
        for a slot and budget; ``max_pause`` the pause the caller accepts to wait out."""
        paused = self._wait_out_pause(max_pause)
        deadline = self._clock() + timeout
        slot = self._take_slot(deadline)
        try:
            self._take_second(deadline)
            yield paused
        finally:
            if slot is not None:
                self._give_back(*slot)

    # --- pause after a 429 --------------------------------------------------------

    def pause_until(self, moment: float) -> None:
        """Every caller waits until ``moment`` (epoch seconds) before its next
        request; a later pause already set stays (read, then written: of two
        429s at the same instant either wait may win, both are a few seconds)."""
        key = f"{self.prefix}:paused-until"
        current = self.cache.get(key)
        if current is not None and current >= moment:
            return
        self.cache.set(key, moment, timeout=max(1, int(moment - self._clock()) + 2))

    def paused_until(self) -> float | None:
        return self.cache.get(f"{self.prefix}:paused-until")

    def _wait_out_pause(self, max_pause: float) -> float:
        # Each pause value is waited out once: only a pause that someone set
        # later (a new 429) makes the wait start again.
        waited, slept = None, 0.0
        while True:
            until = self.paused_until()
            left = until - self._clock() if until is not None else 0.0
            if until is None or until == waited or left <= 0:
                return slept
            if left > max_pause - slept:
                raise RateLimited(
                    "The leads API is rate-limiting us (429) and asked every caller to "
                    f"wait another {left:.0f} s, longer than this request may wait. "
                    "Try again in a minute.",
                    retry_after=left,
                )
            self._sleep(left)
            waited, slept = until, slept + left

    # --- concurrency --------------------------------------------------------------

    def _take_slot(self, deadline: float) -> tuple[str, str] | None:
        if not self.max_concurrent:
            return None
        token = uuid.uuid4().hex
        keys = [f"{self.prefix}:slot:{n}" for n in range(self.max_concurrent)]
        while True:
            random.shuffle(keys)  # no slot is everyone's first try
            for key in keys:
                if self.cache.add(key, token, timeout=self.hold):
                    return key, token
            if self._clock() >= deadline:
                raise ApiBusy(
                    f"Every one of the {self.max_concurrent} calls to the leads API allowed "
                    "at once (LEADS_API_MAX_CONCURRENT) stayed busy for longer than the "
                    "request timeout. Try again shortly."
                )
            self._sleep(SLOT_POLL_SECONDS * (0.5 + random.random()))

    def _give_back(self, key: str, token: str) -> None:
        # Only our own: after an expiry the slot may be someone else's by now.
        if self.cache.get(key) == token:
            self.cache.delete(key)

    # --- per second ---------------------------------------------------------------

    def _take_second(self, deadline: float) -> None:
        if not self.max_per_second:
            return
        while True:
            now = self._clock()
            key = f"{self.prefix}:second:{int(now)}"
            self.cache.add(key, 0, timeout=2)
            try:
                if self.cache.incr(key) <= self.max_per_second:
                    return
            except ValueError:
                continue  # it expired between add and incr: a new second began
            wait = int(now) + 1 - now
            if now + wait > deadline:
                raise ApiBusy(
                    f"The leads API may be called {self.max_per_second} times a second "
                    "(LEADS_API_MAX_PER_SECOND) and that budget stayed used up for longer "
                    "than the request timeout. Try again shortly."
                )
            # A little past the turn of the second, spread so not everyone wakes at once.
            self._sleep(wait + random.random() * 0.01)


def limiter_from_settings(timeout: float) -> ApiLimiter:
    """The process's limiter: the settings' limits, counted in the default cache."""
    return ApiLimiter(
        default_cache,
        max_concurrent=settings.LEADS_API_MAX_CONCURRENT,
        max_per_second=settings.LEADS_API_MAX_PER_SECOND,
        hold=timeout + HOLD_MARGIN_SECONDS,
    )
