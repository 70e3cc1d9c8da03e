"""Middleware that applies to every request."""

from __future__ import annotations

from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

TIME_ZONE_COOKIE = "tz"


def time_zone_of(request):
    """The zone the browser reported in the ``tz`` cookie, or None when there is
    none or it is unknown."""
    name = unquote(request.COOKIES.get(TIME_ZONE_COOKIE, "")).strip()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone key at all
        return None


class UserTimeZoneMiddleware:
    """Activates the browser's time zone for the request, so that what is shown
    (date-times) and what is typed (``datetime-local`` values) are read in it.

    The browser reports its zone in the ``tz`` cookie (time-zone.js, loaded by every page);
    until it has (the first page, JavaScript off) the site's TIME_ZONE applies.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = time_zone_of(request)
        if zone is None:
            timezone.deactivate()
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
