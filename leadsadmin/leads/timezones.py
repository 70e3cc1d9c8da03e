"""The user's time zone for the leads pages.

The browser reports its zone in the ``tz`` cookie (static/leads/time-zone.js);
until it has (the first page, JavaScript off) the site's TIME_ZONE applies. Both
what is shown (date-time cells) and what is typed (``datetime-local`` values) are
read in the zone active while the view runs.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

TIME_ZONE_COOKIE = "tz"


def time_zone_of(request) -> dt.tzinfo | None:
    """The zone the browser reported, or None when there is none or it is unknown."""
    name = unquote(request.COOKIES.get(TIME_ZONE_COOKIE, "")).strip()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone key at all
        return None


def in_users_time_zone(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        zone = time_zone_of(request)
        if zone is None:
            return view(request, *args, **kwargs)
        with timezone.override(zone):
            return view(request, *args, **kwargs)

    return wrapper
