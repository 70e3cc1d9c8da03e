"""Template tags every page may use: ``{% load leadsadmin %}``."""

from __future__ import annotations

from django import template

from leadsadmin.core.values import display_datetime, duration_words

register = template.Library()


@register.filter
def moment(value) -> str:
    """A date-time as ``2026-05-01 09:30`` in the user's zone (the one formatter)."""
    return display_datetime(value)


@register.filter
def duration(value) -> str:
    """A timedelta in a few plain words (``15 min 0 s``), or "" when there is none."""
    return duration_words(value) if value is not None else ""


@register.inclusion_tag("includes/pagination.html", takes_context=True)
def pagination(context, number, num_pages, label="Pages", param="page"):
    """Previous / Page N of M / Next. The links keep the rest of the request's query
    string and set `param` to the page wanted."""
    params = context["request"].GET.copy()
    params.pop(param, None)

    def link(page_number: int) -> str:
        params[param] = str(page_number)
        return params.urlencode()

    return {
        "label": label,
        "number": number,
        "num_pages": num_pages,
        "previous_query": link(number - 1) if number > 1 else "",
        "next_query": link(number + 1) if number < num_pages else "",
    }
