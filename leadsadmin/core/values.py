"""Reading and writing the values people type: one number parser, one date-time
parser, one UTC ISO 8601 formatter and one duration formatter for the whole project.

Date-times without a zone are read in the active time zone (the user's, set by
`UserTimeZoneMiddleware`); everything stored or put in a URL is UTC ISO 8601 in
Payload's own shape, ``2024-01-01T00:01:00.000Z``.
"""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone


def parse_number(text: str) -> int | float:
    """``"12"`` → 12, ``"12.5"`` → 12.5; ValueError (with a message that quotes the
    text) for anything else, NaN and infinities included. ``"12.0"`` and ``"1e3"``
    stay floats: what was typed as a decimal is sent as one."""
    text = str(text).strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"“{text}” is not a number.") from None
    if not math.isfinite(number):
        raise ValueError(f"“{text}” is not a number.")
    if number.is_integer() and text.lstrip("+-").isdigit():
        return int(text)
    return number


def parse_datetime(text: str, tz: dt.tzinfo | None = None) -> dt.datetime:
    """An aware date-time from ISO 8601 text (``2026-05-01T09:30``, a space for the
    ``T``, a ``Z`` or an offset); a time without a zone is in `tz`, else in the
    active zone. ValueError with a message that says what to type."""
    text = str(text).strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"“{text}” is not a date and time; use the picker or YYYY-MM-DD HH:MM."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or timezone.get_current_timezone())
    return moment


def iso_utc(moment: dt.datetime) -> str:
    """``2024-01-01T00:01:00.000Z``: UTC with milliseconds, as Payload stores dates
    (so a comparison against a stored ``updatedAt`` compares like with like)."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def local_datetime(value, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """A stored date-time (an aware datetime or ISO text) in the user's zone;
    None when it cannot be read (the caller shows the raw text)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz or timezone.get_current_timezone())


def display_datetime(value, tz: dt.tzinfo | None = None) -> str:
    """The one way a date-time is shown: ``2026-05-01 09:30`` in the user's zone;
    text that is no date-time is shown as it came, nothing as an empty string."""
    if value is None or value == "":
        return ""
    local = local_datetime(value, tz)
    return str(value) if local is None else local.strftime("%Y-%m-%d %H:%M")


def duration_words(duration: dt.timedelta) -> str:
    """A span of time in a few plain words: ``45 s``, ``1 min 3 s``, ``2 h 5 min``."""
    seconds = max(1, round(duration.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
