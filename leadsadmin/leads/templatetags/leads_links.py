"""Links back to the leads page: ``{% load leads_links %}``."""

from __future__ import annotations

from django import template

from leadsadmin.leads.preview import leads_page_query

register = template.Library()


@register.filter
def as_leads_page_query(filter_query: str) -> str:
    """A bulk edit's filter query as the leads page reads it, selection included."""
    return leads_page_query(filter_query or "")
