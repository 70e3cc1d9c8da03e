"""Every URL of the URL conf, for every role: who is refused (403, or sent to sign in)
and who gets through. The URL list comes from the URL conf itself, so a new URL
without an entry in MATRIX fails `test_every_url_has_an_entry`."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from leadsadmin.bulk.changes import Change
from leadsadmin.leads.models import SavedFilter
from leadsadmin.proposals.models import Proposal
from tests.fixtures_bulk import DUMMY_TASKS

ROLES = ("salesops", "teamlead", "auditor", "admin", "norole")
LEADS = {"salesops", "teamlead", "admin"}
TEAM = {"teamlead", "admin"}
AUDIT = {"auditor", "teamlead", "admin"}
EVERYONE = set(ROLES)

# URL name → (method, the kwargs' object kinds, roles that get through). Anonymous
# visitors are sent to sign in everywhere but where `open` says otherwise.
MATRIX = {
    "home": ("GET", {}, EVERYONE),
    "login": ("GET", {}, "open"),
    "logout": ("POST", {}, EVERYONE),
    "healthz": ("GET", {}, "open"),
    "favicon": ("GET", {}, "open"),
    "leads:index": ("GET", {}, LEADS),
    "leads:load_where": ("GET", {}, LEADS),
    "leads:condition": ("GET", {"row": "row"}, LEADS),
    "leads:export": ("GET", {}, LEADS),
    "leads:detail": ("GET", {"lead_id": "lead"}, LEADS | {"auditor"}),
    "leads:detail_closed": ("GET", {}, EVERYONE),
    "leads:saved_new": ("POST", {}, LEADS),
    "leads:saved_delete": ("POST", {"saved_filter_id": "saved"}, LEADS),
    "bulk:new": ("GET", {}, TEAM),
    "bulk:field_row": ("POST", {}, LEADS),  # the proposal form uses it too
    "bulk:operation": ("GET", {"operation_id": "operation"}, AUDIT),
    "bulk:review": ("GET", {"operation_id": "operation"}, TEAM),
    "bulk:edit": ("GET", {"operation_id": "operation"}, TEAM),
    "bulk:discard": ("POST", {"operation_id": "operation"}, TEAM),
    "bulk:review_again": ("POST", {"operation_id": "operation"}, TEAM),
    "bulk:apply": ("POST", {"operation_id": "operation"}, TEAM),
    "bulk:cancel": ("POST", {"operation_id": "operation"}, TEAM),
    "bulk:retry": ("POST", {"operation_id": "operation"}, TEAM),
    "bulk:revert": ("GET", {"operation_id": "operation"}, TEAM),
    "bulk:errors_csv": ("GET", {"operation_id": "operation"}, AUDIT),
    "sandbox:leads": ("GET", {}, "api key"),
    "sandbox:leads_count": ("GET", {}, "api key"),
    "sandbox:lead": ("GET", {"lead_id": "lead"}, "api key"),
    "audit:index": ("GET", {}, AUDIT),
    "audit:export": ("GET", {"fmt": "csv"}, AUDIT),
    "audit:operation": ("GET", {"operation_id": "operation"}, AUDIT),
    "audit:operation_export": ("GET", {"operation_id": "operation", "fmt": "json"}, AUDIT),
    "audit:lead_search": ("GET", {}, AUDIT),
    "audit:lead": ("GET", {"lead_id": "lead"}, AUDIT),
    "proposals:index": ("GET", {}, TEAM),
    "proposals:mine": ("GET", {}, LEADS),
    "proposals:new": ("GET", {}, LEADS),
    "proposals:from_review": ("POST", {"operation_id": "operation"}, TEAM),
    "proposals:detail": ("GET", {"proposal_id": "proposal"}, AUDIT),
    "proposals:edit": ("GET", {"proposal_id": "proposal"}, LEADS),  # others' drafts: 404
    "proposals:send": ("POST", {"proposal_id": "proposal"}, LEADS),
    "proposals:approve": ("POST", {"proposal_id": "proposal"}, TEAM),
    "proposals:reject": ("POST", {"proposal_id": "proposal"}, TEAM),
    "proposals:withdraw": ("POST", {"proposal_id": "proposal"}, LEADS),
}


def url_names(resolver=None, namespace="") -> list[str]:
    """Every named URL of the URL conf (the admin's own apart: Django guards it)."""
    names = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                names += url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            names.append(namespace + (pattern.name or f"<unnamed {pattern.pattern}>"))
    return names


def test_every_url_has_an_entry():
    assert sorted(set(url_names()) - set(MATRIX)) == []
    assert sorted(set(MATRIX) - set(url_names())) == []


@pytest.fixture
def objects(make_operation, make_user, db):
    proposer = make_user("salesops", username="proposer")
    proposal = Proposal.objects.create(
        proposed_by=proposer,
        changes=[Change("processStatuses", "replace", "Lost").as_json()],
        reason="Duplicates",
        count_seen=3,
        state=Proposal.State.OPEN,
    )
    saved = SavedFilter.objects.create(owner=proposer, name="x", shared=True, query="")
    return {
        "operation": make_operation().pk,
        "proposal": proposal.pk,
        "saved": saved.pk,
        "lead": 1,
        "row": 0,
    }


def _url(name, kwargs, objects) -> str:
    values = {key: objects.get(kind, kind) for key, kind in kwargs.items()}
    return reverse(name, kwargs=values)


def _request(client, method, url):
    return client.get(url) if method == "GET" else client.post(url, {})


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_through_exactly_where_it_may(client, make_user, objects, settings, role):
    settings.TASKS = DUMMY_TASKS
    settings.LEADS_API_URL = "http://127.0.0.1:9/api"  # nothing listens: refusals come first
    settings.LEADS_API_KEY = "users API-Key x"
    client.force_login(make_user(role, username=f"the-{role}"))
    wrong = []
    for name, (method, kwargs, allowed) in MATRIX.items():
        if isinstance(allowed, str) or name == "logout":
            continue
        response = _request(client, method, _url(name, kwargs, objects))
        if (response.status_code != 403) is not (role in allowed):
            wrong.append((name, response.status_code))
    assert wrong == []


def test_anonymous_visitors_are_sent_to_sign_in_except_where_open(client, objects):
    wrong = []
    for name, (method, kwargs, allowed) in MATRIX.items():
        response = _request(client, method, _url(name, kwargs, objects))
        if allowed == "open":
            # healthz: 503 with no API here; the favicon: a redirect to the static icon
            expected = response.status_code in (200, 503) or (
                name == "favicon" and response.status_code == 301
            )
        elif allowed == "api key":
            expected = response.status_code == 403  # the sandbox answers as Payload does
        else:
            expected = response.status_code == 302 and "/login/" in response["Location"]
        if not expected:
            wrong.append((name, response.status_code))
    assert wrong == []
