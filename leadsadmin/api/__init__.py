"""The leads API client. ``get_client()`` is the process-wide LeadsClient."""

from __future__ import annotations

import threading

from django.conf import settings

from leadsadmin.api.client import LeadsClient
from leadsadmin.api.limits import limiter_from_settings

__all__ = ["LeadsClient", "close_client", "get_client"]

_lock = threading.Lock()
_client: LeadsClient | None = None
_built_from: tuple | None = None


def _wanted() -> tuple:
    base_url = settings.LEADS_API_URL or settings.SANDBOX_SELF_URL.rstrip("/") + "/sandbox/api"
    limits = (settings.LEADS_API_MAX_CONCURRENT, settings.LEADS_API_MAX_PER_SECOND)
    return base_url, settings.LEADS_API_KEY, float(settings.LEADS_API_TIMEOUT), limits


def get_client() -> LeadsClient:
    """The LeadsClient for the current settings: one per process (one connection
    pool), rebuilt when LEADS_API_URL, LEADS_API_KEY, LEADS_API_TIMEOUT or the
    LEADS_API_MAX_* limits change (tests point the dashboard at a fresh sandbox
    that way). Its limiter counts in Django's cache (api/limits.py)."""
    global _client, _built_from
    wanted = _wanted()
    client = _client
    if client is not None and _built_from == wanted:
        return client
    with _lock:
        if _client is None or _built_from != wanted:
            previous = _client
            base_url, key, timeout, _ = wanted
            _client = LeadsClient(base_url, key, timeout, limiter=limiter_from_settings(timeout))
            _built_from = wanted
            if previous is not None:
                previous.close()
        return _client


def close_client() -> None:
    """Close the process-wide client's connections (tests call it when their live
    server goes away: a kept-alive connection keeps a server thread, and with it a
    database session, open)."""
    global _client, _built_from
    with _lock:
        previous, _client, _built_from = _client, None, None
    if previous is not None:
        previous.close()
