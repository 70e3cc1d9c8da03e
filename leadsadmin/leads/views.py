import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url, retarget

from leadsadmin import api
from leadsadmin.api.errors import LeadsApiError, NotFound
from leadsadmin.core.csv import csv_response
from leadsadmin.core.roles import BULK_EDIT_LEADS, EXPORT_LEADS, VIEW_AUDIT, VIEW_LEADS
from leadsadmin.leads.builder import condition_controls, condition_refit
from leadsadmin.leads.builder_actions import filter_action_changes_where, filter_apply_action
from leadsadmin.leads.columns import lead_name
from leadsadmin.leads.detail import lead_detail_groups
from leadsadmin.leads.export import export_columns, export_filename, leads_csv_start
from leadsadmin.leads.filters import (
    condition_from_querydict,
    filter_from_querydict,
    filter_resolve,
)
from leadsadmin.leads.forms import SavedFilterForm
from leadsadmin.leads.page import builder_context, leads_link, leads_page_context, leads_url
from leadsadmin.leads.pasted_where import filter_from_where
from leadsadmin.leads.preview import (
    column_preference_of,
    column_preference_remember,
    table_state_from_querydict,
)
from leadsadmin.leads.saved import saved_filter_create, saved_filter_delete, saved_filter_query


def _table_state(request):
    remembered = column_preference_of(request.user)
    state = table_state_from_querydict(request.GET, remembered)
    if "cols" in request.GET and state.columns != remembered:
        column_preference_remember(request.user, state.columns)
    return state


def _page(request, context, url, status=200):
    """The whole page; for htmx the workspace, or only the preview when sorting
    and paging target it, with the canonical URL pushed."""
    if request.htmx and not request.htmx.history_restore_request:
        part = "preview" if request.htmx.target == "preview" else "workspace"
        response = render(request, f"leads/index.html#{part}", context, status=status)
        return push_url(response, url)
    return render(request, "leads/index.html", context, status=status)


@require_GET
@permission_required(VIEW_LEADS, raise_exception=True)
def index(request):
    tree = filter_from_querydict(request.GET)
    state = _table_state(request)
    if action := request.GET.get("do"):
        tree = filter_apply_action(tree, action)
        url = leads_url(tree, state)
        if not request.htmx:
            return redirect(url)
        if not filter_action_changes_where(action):
            response = render(request, "leads/index.html#builder", builder_context(tree, state))
            return push_url(retarget(response, "#builder"), url)
    can_bulk_edit = request.user.has_perm(BULK_EDIT_LEADS)
    context = leads_page_context(
        tree=tree, state=state, user=request.user, can_bulk_edit=can_bulk_edit
    )
    return _page(request, context, leads_url(tree, context["state"]))


@require_GET
@permission_required(VIEW_LEADS, raise_exception=True)
def load_where(request):
    """Loads a pasted where JSON into the builder; an unreadable one is shown back
    with its message and the filter that was there stays."""
    text = request.GET.get("where_json", "")
    try:
        tree = filter_from_where(json.loads(text))
    except json.JSONDecodeError as exc:
        tree, problem = None, f"This is not valid JSON ({exc.msg}, line {exc.lineno})."
    else:
        problem = " ".join(tree.errors)
    state = _table_state(request)
    if problem:
        tree = filter_from_querydict(QueryDict(request.GET.get("current", "")))
    elif not request.htmx:
        return redirect(leads_url(tree, state))
    context = leads_page_context(
        tree=tree,
        state=state,
        user=request.user,
        can_bulk_edit=request.user.has_perm(BULK_EDIT_LEADS),
    )
    context.update(where_problem=problem, where_text=text if problem else "")
    # htmx swaps only 2xx answers; a plain form post-back says 400.
    status = 400 if problem and not request.htmx else 200
    return _page(request, context, leads_url(tree, state), status=status)


@require_GET
@permission_required(VIEW_LEADS, raise_exception=True)
def condition_row(request, row):
    """One condition row again, after its field or operator changed."""
    condition = condition_refit(condition_from_querydict(request.GET, row))
    path = request.GET.get(f"c{row}", "0")
    context = {"controls": condition_controls(condition, path)}
    return render(request, "leads/index.html#condition", context)


@require_GET
def lead_detail(request, lead_id):
    """All of one lead's fields; auditors may read it too (from a lead's history)."""
    if not (request.user.has_perm(VIEW_LEADS) or request.user.has_perm(VIEW_AUDIT)):
        raise PermissionDenied("Only sales ops, team leads and auditors can open a lead.")
    try:
        # depth 1: the related documents' names, beside their ids
        lead = api.get_client().get(lead_id, depth=1)
    except NotFound:
        raise Http404("There is no lead with this id.") from None
    except LeadsApiError as exc:
        context = {"lead_id": lead_id, "error": str(exc)}
    else:
        context = {
            "lead_id": lead_id,
            "name": lead_name(lead),
            "groups": lead_detail_groups(lead),
        }
    template = "leads/detail.html#panel" if request.htmx else "leads/detail.html"
    return render(request, template, context)


@require_GET
def lead_detail_closed(request):
    """The side panel's Close button swaps this nothing in."""
    return HttpResponse("")


@require_GET
@permission_required(EXPORT_LEADS, raise_exception=True)
def export_csv(request):
    tree = filter_from_querydict(request.GET)
    if tree.is_valid:
        filter_resolve(tree, timezone.get_current_timezone())
    if not tree.is_valid:
        return HttpResponseBadRequest(
            "The filter has errors; open it on the leads page to fix them.",
            content_type="text/plain",
        )
    state = table_state_from_querydict(request.GET, column_preference_of(request.user))
    try:
        lines = leads_csv_start(
            client=api.get_client(),
            tree=tree,
            columns=export_columns(request.GET, state.columns),
            sort=state.api_sort,
            selected=state.selected,  # none when all are selected: the filter itself
            tz=timezone.get_current_timezone(),  # the stream is written after the view returns
        )
    except LeadsApiError as exc:
        return render(request, "leads/export_failed.html", {"error": str(exc)}, status=502)
    return csv_response(lines, export_filename())


@require_POST
@permission_required(VIEW_LEADS, raise_exception=True)
def saved_filter_new(request):
    form = SavedFilterForm(request.POST)
    query = saved_filter_query(request.POST)
    if form.is_valid():
        saved = saved_filter_create(owner=request.user, **{**form.cleaned_data, "query": query})
        messages.success(request, f"Saved the filter “{saved.name}”.")
        query = saved.query
    else:
        messages.error(
            request, "The filter was not saved: give it a name (120 characters at most)."
        )
    if request.htmx:  # the message shows on the reloaded page
        return HttpResponseClientRedirect(leads_link(query))
    return redirect(leads_link(query))


@require_POST
@permission_required(VIEW_LEADS, raise_exception=True)
def saved_filter_remove(request, saved_filter_id):
    if not saved_filter_delete(user=request.user, saved_filter_id=saved_filter_id):
        raise Http404("You have no saved filter with this id.")
    messages.success(request, "Deleted the saved filter.")
    return redirect(leads_link(request.POST.get("current", "")))
