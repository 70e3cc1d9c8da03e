"""Saved filters: who sees which, creating and deleting them."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import QueryDict

from leadsadmin.leads.filters import (
    filter_from_querydict,
    filter_keys_present,
    querystring_from_filter,
)
from leadsadmin.leads.models import SavedFilter


def saved_filters_visible_to(user) -> QuerySet[SavedFilter]:
    """The user's own filters and everyone's shared ones."""
    return SavedFilter.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def saved_filter_create(*, owner, name: str, shared: bool, query: str) -> SavedFilter:
    canonical = querystring_from_filter(filter_from_querydict(QueryDict(query)))
    return SavedFilter.objects.create(owner=owner, name=name, shared=shared, query=canonical)


def saved_filter_delete(*, user, saved_filter_id: int) -> bool:
    """Deletes one of the user's own filters; False when there is none by that id."""
    deleted, _ = SavedFilter.objects.filter(owner=user, id=saved_filter_id).delete()
    return bool(deleted)


def saved_filter_query(post: QueryDict) -> str:
    """The filter to save: the builder's own fields when the form sent them along
    (htmx includes them, so what is on screen is saved, previewed or not), else
    the ``query`` the page was rendered with."""
    if filter_keys_present(post):
        return querystring_from_filter(filter_from_querydict(post))
    return post.get("query", "")
