"""Everything the leads page shows, from the filter tree and the table state."""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils import timezone

from leadsadmin import api
from leadsadmin.leads.builder import FIELD_CHOICES, builder_rows
from leadsadmin.leads.columns import column_choices
from leadsadmin.leads.filters import (
    FilterTree,
    filter_resolve,
    querystring_from_filter,
    where_from_filter,
)
from leadsadmin.leads.forms import SavedFilterForm
from leadsadmin.leads.preview import (
    PAGE_SIZES,
    TableState,
    lead_preview,
    page_querystring,
)
from leadsadmin.leads.saved import saved_filters_visible_to


def leads_link(query: str) -> str:
    """The leads page with `query`: a filter's, or a filter's and the table's."""
    return reverse("leads:index") + (f"?{query}" if query else "")


def leads_url(tree: FilterTree, state: TableState) -> str:
    return leads_link(page_querystring(querystring_from_filter(tree), state))


def builder_context(tree: FilterTree, state: TableState) -> dict:
    filter_qs = querystring_from_filter(tree)
    if tree.is_valid:  # before the rows: a condition it cannot resolve shows its error
        filter_resolve(tree)
    where = where_from_filter(tree) if tree.is_valid else None
    return {
        "tree": tree,
        "rows": builder_rows(tree),
        "field_choices": FIELD_CHOICES,
        "filter_qs": filter_qs,
        "state": state,
        "where": where,
        "where_json": json.dumps(where, indent=2, ensure_ascii=False) if where is not None else "",
        "save_form": SavedFilterForm(initial={"query": filter_qs}),
    }


def leads_page_context(*, tree: FilterTree, state: TableState, user, can_bulk_edit: bool) -> dict:
    """The whole page. The preview runs only for a valid filter: invalid input
    never reaches the API."""
    context = builder_context(tree, state)
    filter_qs = context["filter_qs"]
    context["preview"] = None
    if context["where"] is not None:
        context["preview"] = lead_preview(
            client=api.get_client(), where=context["where"], state=state, filter_qs=filter_qs
        )
        state = context["state"] = context["preview"].state  # the last page, if past it
    context.update(
        page_qs=page_querystring(filter_qs, state),
        page_sizes=PAGE_SIZES,
        column_choices=column_choices,  # called by the template: only the whole page uses it
        saved_filters=saved_filters_visible_to(user),
        time_zone=timezone.get_current_timezone_name(),
        can_bulk_edit=can_bulk_edit,
    )
    return context
