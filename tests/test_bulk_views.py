"""The bulk pages through the Django test client: choosing changes, review,
apply, the operation page and its polled fragment, CSV, audit, permissions."""

import re
from html import unescape

import pytest
from django.http import QueryDict
from django.test import Client

from leadsadmin.bulk.models import BulkOperation, PinnedLead
from leadsadmin.sandbox.models import Lead
from tests.fixtures_bulk import DUMMY_TASKS, IMMEDIATE_TASKS, filter_qs

State = BulkOperation.State
OPEN = filter_qs(("processStatuses", "in", ["Qualified Lead", "On Hold"]))
live = pytest.mark.django_db(transaction=True)


def _text(response) -> str:
    """The page's text without tags, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _review_post(client, query=OPEN, **extra):
    data = {
        "action": "review",
        "fields": ["processStatuses"],
        "value-processStatuses": "Lost",
        "reason": "Duplicate leads",
        **extra,
    }
    return client.post(f"/bulk/new?{query}", data)


# ---------------------------------------------------------------- choosing changes


@live
def test_form_offers_bulk_editable_fields_and_keeps_the_filter(seeded_sandbox, client_as):
    response = client_as("teamlead").get(f"/bulk/new?{OPEN}")
    assert response.status_code == 200
    html = response.content.decode()
    text = _text(response)
    assert "Add field to change" in text and "Review changes" in text
    assert '<label for="reason">Reason for this change</label>' in html
    assert '<option value="processStatuses">Process status</option>' in html
    assert 'value="updatedAt"' not in html and 'value="id"' not in html  # not bulk editable
    matching = Lead.objects.filter(processStatuses__in=["Qualified Lead", "On Hold"]).count()
    assert f"{matching} leads match the filter" in text
    assert f'action="/bulk/new?{OPEN.replace("&", "&amp;")}"' in html
    assert f'href="/leads/?{OPEN.replace("&", "&amp;")}"' in html


@live
def test_add_field_with_htmx_appends_a_row_fitting_the_type(seeded_sandbox, client_as):
    client = client_as("teamlead")
    response = client.post(
        "/bulk/new/field",
        {"add_field": "exterior", "fields": ["processStatuses"]},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<legend>Exterior color" in html
    for label in ("Replace with", "Add items", "Remove items", "Clear value", "Light Blue"):
        assert label in html
    assert 'type="checkbox" name="value-exterior" value="Red"' in html
    # The picker comes back out of band without the chosen fields.
    assert 'id="field-picker" hx-swap-oob="true"' in html
    assert 'value="exterior"' not in html.split('id="field-picker"')[1]
    assert 'value="processStatuses"' not in html.split('id="field-picker"')[1]

    scalar = client.post("/bulk/new/field", {"add_field": "year"}, headers={"HX-Request": "true"})
    assert 'type="number" step="any" id="value-year" name="value-year"' in scalar.content.decode()
    assert '<label for="value-year" class="visually-hidden">Year</label>' in (
        scalar.content.decode()
    )

    again = client.post(
        "/bulk/new/field",
        {"add_field": "exterior", "fields": ["exterior"]},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 204


@live
def test_add_and_remove_fields_work_without_javascript(seeded_sandbox, client_as):
    client = client_as("teamlead")
    response = client.post(
        f"/bulk/new?{OPEN}",
        {"action": "add_field", "add_field": "manual", "reason": "keep me"},
    )
    html = response.content.decode()
    assert "<legend>Entered manually" in html
    assert '<option value="true">Yes</option>' in html
    assert "keep me</textarea>" in html

    response = client.post(
        f"/bulk/new?{OPEN}",
        {"fields": ["manual", "year"], "value-year": "2020", "remove_field": "manual"},
    )
    html = response.content.decode()
    assert "<legend>Entered manually" not in html
    assert 'name="value-year" value="2020"' in html
    assert not BulkOperation.objects.exists()


@live
def test_invalid_changes_are_shown_back_and_nothing_is_created(seeded_sandbox, client_as):
    response = client_as("teamlead").post(
        f"/bulk/new?{OPEN}",
        {
            "action": "review",
            "fields": ["processStatuses", "year"],
            "value-processStatuses": "lost",
            "value-year": "twenty",
            "reason": "",
        },
    )
    text = _text(response)
    assert response.status_code == 200
    assert "'lost' is not an option of Process status" in text
    assert "Year must be a number, not 'twenty'" in text
    assert "Give a reason for this change" in text
    assert 'name="value-year" value="twenty"' in response.content.decode()
    assert not BulkOperation.objects.exists()


@live
def test_review_says_how_many_leads_and_what_changes(seeded_sandbox, client_as):
    client = client_as("teamlead")
    response = _review_post(client)
    operation = BulkOperation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bulk/{operation.pk}/review"

    review = client.get(response["Location"])
    text = _text(review)
    counts = operation.value_counts["processStatuses"]
    assert {value for value, _ in counts} == {"Qualified Lead", "On Hold"}
    assert sum(count for _, count in counts) == operation.total
    assert counts[0][1] >= counts[1][1]  # the most common first
    current = ", ".join(f"{value} {count}" for value, count in counts)
    assert f"You are about to update {operation.total} leads" in text
    assert f"processStatuses : {current} → Lost" in text
    assert "A sample of the leads" in text
    assert "Type" not in text.split("A sample of the leads")[1].split("Apply changes")[0]
    assert "Apply changes" in text
    assert f'href="/bulk/{operation.pk}/edit"' in review.content.decode()
    assert "Back to edit" in text
    # The audit note has one name; the lead field Reason is not on this page.
    assert "Reason for this change: Duplicate leads" in text
    assert "Reason:" not in text


@live
def test_large_or_unfiltered_operations_need_n_typed(seeded_sandbox, client_as, settings):
    settings.TASKS = DUMMY_TASKS
    client = client_as("teamlead")
    _review_post(client, query="")
    operation = BulkOperation.objects.get()
    review = client.get(f"/bulk/{operation.pk}/review")
    html = review.content.decode()
    assert f'<label for="confirmation">Type {operation.total} to confirm</label>' in html
    assert "every lead" in _text(review)

    refused = client.post(f"/bulk/{operation.pk}/apply", {"confirmation": "12"})
    assert refused.status_code == 400
    assert f"Type {operation.total} to confirm" in _text(refused)
    operation.refresh_from_db()
    assert operation.state == State.REVIEWED

    applied = client.post(f"/bulk/{operation.pk}/apply", {"confirmation": str(operation.total)})
    assert applied.status_code == 302
    operation.refresh_from_db()
    assert operation.state == State.QUEUED


@live
def test_applying_twice_from_two_tabs_runs_once(seeded_sandbox, client_as, settings):
    settings.TASKS = DUMMY_TASKS
    from django.tasks import default_task_backend

    client = client_as("teamlead")
    _review_post(client)
    operation = BulkOperation.objects.get()
    first = client.post(f"/bulk/{operation.pk}/apply")
    second = client.post(f"/bulk/{operation.pk}/apply")
    assert first["Location"] == second["Location"] == f"/bulk/{operation.pk}/"
    assert len(default_task_backend.results) == 1


@live
def test_full_flow_runs_inline_and_shows_results(seeded_sandbox, client_as, settings):
    settings.TASKS = IMMEDIATE_TASKS
    client = client_as("teamlead")
    _review_post(client)
    operation = BulkOperation.objects.get()
    response = client.post(f"/bulk/{operation.pk}/apply", follow=True)
    text = _text(response)
    operation.refresh_from_db()
    assert operation.state == State.FINISHED
    assert f"Updated {operation.total} of {operation.total} leads" in text
    assert f"Updated {operation.total} Leads successfully." in text
    assert "On Hold → Lost" in text or "Qualified Lead → Lost" in text
    assert "Errors No errors." in text and "Conflicts No conflicts." in text
    assert "Download errors as CSV" not in text  # nothing to download
    assert 'hx-trigger="every 1s"' not in response.content.decode()  # finished: no polling


# ---------------------------------------------------------------- the operation page


def test_progress_fragment_polls_while_running(make_operation, client_as, db):
    operation = make_operation(
        state=State.RUNNING, outcomes={1: ("updated", ""), 2: ("pending", ""), 3: ("pending", "")}
    )
    response = client_as("teamlead").get(f"/bulk/{operation.pk}/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="operation-status"')
    assert 'hx-trigger="every 1s"' in html
    assert '<label for="bulk-progress">Progress: 1 of 3 leads done</label>' in html
    assert '<progress id="bulk-progress" value="1" max="3">' in html
    assert "Time left" in html
    assert ">Cancel</button>" in html
    # app.js reads the state from here to announce changes and tell a background tab.
    assert f'data-job-name="Bulk operation {operation.pk}" data-job-state="running"' in html
    page = client_as("auditor").get(f"/bulk/{operation.pk}/").content.decode()
    assert '<p id="job-announcer" class="visually-hidden" aria-live="polite"></p>' in page
    assert "aria-live" not in page.split('id="operation-status"')[1]  # polled: not a region
    assert "Updated 1 of 3 leads" not in html  # results come when it is over


def test_results_show_partial_failure_errors_and_conflicts(make_operation, client_as, db):
    operation = make_operation()
    response = client_as("teamlead").get(f"/bulk/{operation.pk}/")
    text = _text(response)
    assert (
        "Updated 1 of 3 leads. 1 was changed by someone else after your review and was left "
        "alone. 1 was refused by the API (see Errors)."
    ) in text
    assert "Partly applied" in text
    errors = text.replace("Lead ID Message ", "")
    assert "Errors 2 The API refused a value: Reason The API's words" in errors
    assert "The following field is invalid: Reason" in errors
    assert 'href="/leads/2/"' in response.content.decode()  # lead ids link to the lead
    assert "Download errors as CSV" in text
    assert "Conflicts" in text and "Changed since the review; not overwritten." in text
    assert "Unable to update 1 out of 2 Leads." in text
    assert "Retry failed" in text


def test_the_filter_link_opens_the_leads_page_with_the_selection_the_edit_had(
    make_operation, client_as, db
):
    chosen = filter_qs(("make", "equals", "Ford"))
    operation = make_operation(filter_query=f"{chosen}&ids=5,9")

    page = client_as("teamlead").get(f"/bulk/{operation.pk}/").content.decode()
    link = unescape(re.search(r'href="(/leads/\?[^"]*)">Open the filter', page)[1])
    query = QueryDict(link.split("?", 1)[1])
    assert query.getlist("sel") == ["5", "9"] and "ids" not in query
    assert query["f0"] == "make" and query["v0"] == "Ford"

    # An auditor cannot open the leads page: the filter is in words in the audit record.
    page = client_as("auditor").get(f"/bulk/{operation.pk}/").content.decode()
    assert "Open the filter" not in page
    assert f'href="/audit/operations/{operation.pk}/">In words, in the audit record' in page


def test_errors_csv_lists_errors_and_conflicts(make_operation, client_as, db):
    operation = make_operation()
    response = client_as("auditor").get(f"/bulk/{operation.pk}/errors.csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == [
        "Lead ID,Outcome,Message",
        "2,Error,The following field is invalid: Reason",
        "3,Conflict,Changed since the review; not overwritten.",
    ]


def test_cancel_and_retry_from_the_page(make_operation, client_as, settings, db):
    settings.TASKS = DUMMY_TASKS
    client = client_as("teamlead")
    running = make_operation(state=State.RUNNING, outcomes={1: ("pending", "")})
    client.post(f"/bulk/{running.pk}/cancel")
    running.refresh_from_db()
    assert running.cancel_requested

    stopped = make_operation(state=State.STOPPED, stop_reason="Stopped: API down.")
    response = client.post(f"/bulk/{stopped.pk}/retry", {"include_errors": "1"})
    # The stopped operation stays as it ended; its errored lead runs again in a new one.
    retry = BulkOperation.objects.get(retry_of=stopped)
    assert response["Location"] == retry.get_absolute_url()
    assert (retry.state, retry.total, retry.error_count) == (State.QUEUED, 1, 0)
    assert PinnedLead.objects.get(operation=retry, lead_id=2).outcome == "pending"
    assert PinnedLead.objects.get(operation=stopped, lead_id=2).outcome == "error"
    assert BulkOperation.objects.get(pk=stopped.pk).state == State.STOPPED


def test_audit_lists_operations_with_who_when_why_and_outcome(make_operation, client_as, db):
    operation = make_operation()
    response = client_as("auditor").get("/audit/")
    text = _text(response)
    assert f'href="/audit/operations/{operation.pk}/"' in response.content.decode()
    assert "Duplicate leads" in text
    assert operation.created_by.username in text
    assert "Finished: Updated 1 of 3 leads (1 errors, 1 conflicts)" in text
    assert "Process status → Lost" in text


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    ("kind", "can_edit", "can_read"),
    [
        ("teamlead", True, True),
        ("admin", True, True),
        ("auditor", False, True),
        ("salesops", False, False),
        ("norole", False, False),
    ],
)
def test_who_may_do_what(make_operation, client_as, kind, can_edit, can_read, settings, db):
    settings.TASKS = DUMMY_TASKS
    settings.LEADS_API_URL = "http://127.0.0.1:9/api"  # nothing listens: no request may matter
    settings.LEADS_API_KEY = "users API-Key x"
    reviewed = make_operation(state=State.REVIEWED, outcomes={1: ("pending", "")})
    finished = make_operation(state=State.STOPPED)
    client = client_as(kind)

    edit_requests = [
        client.post(f"/bulk/new?{OPEN}", {"action": "add_field", "add_field": "year"}),
        client.get(f"/bulk/{reviewed.pk}/review"),
        client.post(f"/bulk/{finished.pk}/cancel"),
        client.post(f"/bulk/{finished.pk}/retry"),
        client.post(f"/bulk/{reviewed.pk}/apply"),
    ]
    for response in edit_requests:
        assert (response.status_code != 403) is can_edit, (kind, response.request["PATH_INFO"])
    reviewed.refresh_from_db()
    assert (reviewed.state == State.QUEUED) is can_edit

    page = client.get(f"/bulk/{finished.pk}/")
    csv = client.get(f"/bulk/{finished.pk}/errors.csv")
    assert (page.status_code == 200) is can_read
    assert (csv.status_code == 200) is can_read
    if can_read:
        # Read-only for auditors: the view decides, the template only formats.
        assert ("Retry failed" in page.content.decode()) is can_edit


def test_posts_need_the_csrf_token(make_operation, make_user, db):
    operation = make_operation(state=State.REVIEWED, outcomes={1: ("pending", "")})
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin"))
    assert client.post(f"/bulk/{operation.pk}/apply").status_code == 403
    operation.refresh_from_db()
    assert operation.state == State.REVIEWED


def test_errors_csv_never_hands_a_spreadsheet_a_formula(make_operation, client_as, db):
    operation = make_operation(outcomes={7: ("error", '=HYPERLINK("http://x","y")')})
    response = client_as("teamlead").get(f"/bulk/{operation.pk}/errors.csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[1] == '7,Error,"\'=HYPERLINK(""http://x"",""y"")"'


@live
def test_form_warns_when_the_filter_matches_more_than_one_operation_may_change(
    seeded_sandbox, client_as, settings
):
    settings.BULK_MAX_OPERATION_SIZE = 50
    client = client_as("teamlead")
    assert "more than the 50 leads" in _text(client.get("/bulk/new?"))
    refused = _review_post(client, query="")
    assert "more than the 50 one bulk operation may change" in _text(refused)
    assert not BulkOperation.objects.exists()


def test_bulk_edit_selected_changes_only_the_selected_leads_that_still_match(
    seeded_sandbox, client_as, settings
):
    from leadsadmin.sandbox.models import Lead

    settings.TASKS = IMMEDIATE_TASKS
    hold = filter_qs(("processStatuses", "equals", "On Hold"))
    on_hold = list(Lead.objects.filter(processStatuses="On Hold").order_by("id")[:3])
    other = Lead.objects.exclude(processStatuses="On Hold").order_by("id").first()
    ids = ",".join(str(lead.id) for lead in [*on_hold, other])
    client = client_as("teamlead")
    page = client.get(f"/bulk/new?{hold}&ids={ids}")
    assert "3 of the 4 selected leads still match the filter" in _text(page)
    client.post(
        f"/bulk/new?{hold}&ids={ids}",
        {"action": "review", "fields": ["reason"], "value-reason": "Duplicate", "reason": "Dupes"},
    )
    operation = BulkOperation.objects.get()
    assert sorted(operation.pinned.values_list("lead_id", flat=True)) == [
        lead.id for lead in on_hold
    ]
    assert "ids=" in operation.filter_query


def test_a_selection_that_is_not_ids_is_refused_with_a_message(client_as, db, settings):
    settings.LEADS_API_URL = "http://127.0.0.1:9/api"  # nothing listens: it must not be asked
    settings.LEADS_API_KEY = "users API-Key x"
    page = client_as("teamlead").get("/bulk/new?ids=3,abc")
    assert "The selection is not a list of lead ids" in _text(page)


# ---------------------------------------------------------------- back to edit, drafts


def _form_data(form) -> QueryDict:
    """What the browser posts for a change form as shown: every row's controls,
    the reason and the draft it replaces."""
    data = QueryDict(mutable=True)
    data.setlist("fields", [row.name for row in form.rows])
    for row in form.rows:
        for name in row.fields:
            value = row[name].value()
            if value not in (None, "", False):
                value = "1" if value is True else value
                data.setlist(row.add_prefix(name), value if isinstance(value, list) else [value])
    data["reason"] = form.reason_form["reason"].value()
    data["replaces"] = str(form.replaces_form["replaces"].value() or "")
    return data


def test_the_form_prefilled_from_changes_posts_them_back_exactly():
    from leadsadmin.bulk.changes import Change
    from leadsadmin.bulk.forms import BulkChangeForm

    changes = [
        Change("processStatuses", "replace", "Lost"),
        Change("reason", "replace", "Duplicate"),
        Change("exterior", "remove", ["Silver", "Black"]),
        Change("searches", "replace", [3, 9]),
        Change("subscribe", "replace", False),
        Change("year", "replace", 2020),
        Change("notes", "clear", None),
    ]
    shown = BulkChangeForm.from_changes(changes, "Dupes from the fair", replaces=12)
    posted = BulkChangeForm(_form_data(shown))
    assert posted.is_valid(), [row.errors for row in posted.rows]
    assert posted.changes == changes
    assert (posted.reason, posted.replaces) == ("Dupes from the fair", 12)


@live
def test_back_to_edit_keeps_everything_and_reviewing_again_leaves_one_draft(
    seeded_sandbox, client_as
):
    client = client_as("teamlead")
    _review_post(
        client,
        fields=["processStatuses", "reason", "exterior"],
        **{"value-reason": "Duplicate", "mode-exterior": "add", "value-exterior": ["Black"]},
    )
    first = BulkOperation.objects.get()
    review = client.get(f"/bulk/{first.pk}/review")
    assert f'<a href="/bulk/{first.pk}/edit" class="back-link">Back to edit</a>' in (
        review.content.decode()
    )

    edit = client.get(f"/bulk/{first.pk}/edit")
    html = edit.content.decode()
    assert f'action="/bulk/new?{OPEN.replace("&", "&amp;")}"' in html
    assert '<option value="Lost" selected>Lost</option>' in html
    assert '<option value="Duplicate" selected>Duplicate</option>' in html
    assert re.search(r'name="mode-exterior" value="add"[^>]*checked', html)
    assert re.search(r'name="value-exterior" value="Black"[^>]*checked', html)
    assert "Duplicate leads</textarea>" in html
    assert f'<input type="hidden" name="replaces" value="{first.pk}">' in html
    assert f"Editing the changes of draft {first.pk}" in _text(edit)

    again = client.post(
        f"/bulk/new?{OPEN}",
        {
            "action": "review",
            "fields": ["processStatuses", "reason", "exterior"],
            "value-processStatuses": "Lost",
            "value-reason": "Duplicate",
            "mode-exterior": "add",
            "value-exterior": ["Black"],
            "reason": "Duplicate leads",
            "replaces": str(first.pk),
        },
    )
    second = BulkOperation.objects.exclude(pk=first.pk).get()
    assert again["Location"] == f"/bulk/{second.pk}/review"
    first.refresh_from_db()
    assert first.state == State.DISCARDED
    assert first.stop_reason == (
        f"Replaced by operation {second.pk}, reviewed again after Back to edit."
    )
    assert list(BulkOperation.objects.filter(state=State.REVIEWED)) == [second]
    assert second.changes == first.changes and second.reason == first.reason


@pytest.fixture
def dead_api(settings):
    settings.TASKS = DUMMY_TASKS
    settings.LEADS_API_URL = "http://127.0.0.1:9/api"  # nothing listens: no request may matter
    settings.LEADS_API_KEY = "users API-Key x"


def test_drafts_are_listed_on_the_form_to_resume_or_discard(
    make_operation, make_user, client, dead_api
):
    owner = make_user("teamlead", username="tess")
    draft = make_operation(state=State.REVIEWED, user=owner, outcomes={1: ("pending", "")})
    someone_elses = make_operation(state=State.REVIEWED, outcomes={2: ("pending", "")})
    make_operation(user=owner)  # applied: not a draft
    client.force_login(owner)

    page = client.get("/bulk/new?ids=1")
    html, text = page.content.decode(), _text(page)
    assert f"Draft {draft.pk} · Process status → Lost · 1 lead" in text
    assert "Reason for this change: Duplicate leads" in text
    assert f'href="/bulk/{draft.pk}/review"' in html  # Resume
    assert f'href="/bulk/{draft.pk}/edit"' in html
    assert f"Draft {someone_elses.pk}" not in text
    assert text.count("Resume draft") == 1

    discarded = client.post(f"/bulk/{draft.pk}/discard", {"next": "/bulk/new?ids=1"}, follow=True)
    assert discarded.redirect_chain == [("/bulk/new?ids=1", 302)]
    assert f"Draft {draft.pk} was discarded; it stays on record." in _text(discarded)
    assert "You have no drafts." in _text(discarded)
    draft.refresh_from_db()
    assert (draft.state, draft.stop_reason) == (
        State.DISCARDED,
        "Discarded by tess without being applied.",
    )
    # Elsewhere than this site is no place to go back to.
    again = client.post(f"/bulk/{someone_elses.pk}/discard", {"next": "https://evil.example/"})
    assert again["Location"].startswith("/leads/?")


def test_drafts_older_than_a_day_expire_when_drafts_are_listed(
    make_operation, make_user, client, dead_api
):
    from datetime import timedelta

    from django.utils import timezone

    from leadsadmin.bulk.operations import EXPIRED
    from leadsadmin.core.records import RecordFrozen

    owner = make_user("teamlead", username="tess")
    old = make_operation(
        state=State.REVIEWED,
        user=owner,
        outcomes={1: ("pending", "")},
        created_at=timezone.now() - timedelta(hours=25),
    )
    fresh = make_operation(state=State.REVIEWED, user=owner, outcomes={2: ("pending", "")})
    client.force_login(owner)

    text = _text(client.get("/bulk/new"))
    assert f"Draft {fresh.pk}" in text and f"Draft {old.pk}" not in text
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, old.stop_reason) == (State.DISCARDED, EXPIRED)
    assert old.finished_at is not None
    assert fresh.state == State.REVIEWED
    with pytest.raises(RecordFrozen):  # still on the record, as it ended
        old.save()

    stale = make_operation(
        state=State.REVIEWED,
        user=owner,
        outcomes={3: ("pending", "")},
        created_at=timezone.now() - timedelta(days=2),
    )
    # Opened from an old link, it has expired: the page says so, nothing to apply.
    page = client.get(f"/bulk/{stale.pk}/review", follow=True)
    assert page.redirect_chain == [(f"/bulk/{stale.pk}/", 302)]
    assert EXPIRED in _text(page)
    client.post(f"/bulk/{stale.pk}/apply")
    stale.refresh_from_db()
    assert stale.state == State.DISCARDED

    # A worker's sweep expires them too, without anyone opening a page.
    from leadsadmin.bulk.operations import bulk_sweep

    unseen = make_operation(
        state=State.REVIEWED,
        user=owner,
        outcomes={4: ("pending", "")},
        created_at=timezone.now() - timedelta(days=2),
    )
    bulk_sweep()
    unseen.refresh_from_db()
    assert (unseen.state, unseen.stop_reason) == (State.DISCARDED, EXPIRED)


def test_a_review_can_be_discarded_and_states_its_reason_under_one_name(
    make_operation, client_as, dead_api
):
    operation = make_operation(state=State.REVIEWED, outcomes={1: ("pending", "")})
    client = client_as("teamlead")
    review = client.get(f"/bulk/{operation.pk}/review")
    assert "Discard this review" in _text(review)
    response = client.post(f"/bulk/{operation.pk}/discard")
    assert response["Location"] == f"/leads/?{operation.filter_query}"
    operation.refresh_from_db()
    assert operation.state == State.DISCARDED
    page = _text(client.get(f"/bulk/{operation.pk}/"))
    assert "Reason for this change Duplicate leads" in page
    # Nothing ran: not "partly applied", no leads "not sent because the job stopped".
    assert "Nothing was sent: this review was not applied." in page
    assert "Partly applied" not in page and "the job stopped" not in page
    again = client.post(f"/bulk/{operation.pk}/discard", follow=True)
    assert f"Operation {operation.pk} was no longer a draft." in _text(again)
    history = _text(client_as("auditor").get("/audit/leads/1/"))
    assert f"Operation {operation.pk}" not in history and f"#{operation.pk}" not in history


# ---------------------------------------------------------------- conflicts


def test_conflict_rows_show_expected_found_and_when(make_operation, client_as, dead_api):
    from leadsadmin.bulk.models import PinnedLead

    operation = make_operation(state=State.PINNING)
    PinnedLead.objects.filter(operation=operation, lead_id=3).update(
        after={"processStatuses": "Won", "updatedAt": "2026-05-01T09:30:00.000Z"}
    )
    BulkOperation.objects.filter(pk=operation.pk).update(state=State.FINISHED)
    client = client_as("teamlead")
    page = client.get(f"/bulk/{operation.pk}/")
    text = _text(page)
    assert "Lead ID Field Expected (at review) Found Changed" in text
    assert "3 Process status On Hold Won changed at 2026-05-01 09:30 Review these again" in text
    assert '<time datetime="2026-05-01T09:30:00.000Z">' in page.content.decode()
    assert "Review these again" in text
    assert "Retry failed" in text  # lead 2 failed with an error
    assert "Review these again" not in _text(client_as("auditor").get(f"/bulk/{operation.pk}/"))


@live
def test_review_these_again_reviews_just_the_conflicting_leads_with_the_same_changes(
    seeded_sandbox, client_as, settings
):
    from datetime import timedelta

    from django.utils import timezone

    settings.TASKS = IMMEDIATE_TASKS
    client = client_as("teamlead")
    _review_post(client, fields=["processStatuses", "reason"], **{"value-reason": "Duplicate"})
    operation = BulkOperation.objects.get()
    changed = sorted(operation.pinned.values_list("lead_id", flat=True))[:2]
    # Someone else edits two leads between the review and Apply.
    later = timezone.now() + timedelta(seconds=2)
    Lead.objects.filter(pk__in=changed).update(reason="Test", updatedAt=later)
    client.post(f"/bulk/{operation.pk}/apply", {"confirmation": str(operation.total)})
    operation.refresh_from_db()
    assert operation.conflict_count == 2

    conflicts = _text(client.get(f"/bulk/{operation.pk}/")).split("Expected (at review)")[1]
    assert all(f"{lead_id} Process status" in conflicts for lead_id in changed)
    assert conflicts.count(" Test ") == 2  # the value found in place of the one expected
    assert conflicts.count("changed at") == 2
    assert "another field changed" not in conflicts

    response = client.post(f"/bulk/{operation.pk}/review-again")
    review = BulkOperation.objects.get(state=State.REVIEWED)
    assert response["Location"] == f"/bulk/{review.pk}/review"
    assert sorted(review.pinned.values_list("lead_id", flat=True)) == changed
    assert review.changes == operation.changes and review.reason == operation.reason
    assert f"ids={changed[0]}%2C{changed[1]}" in review.filter_query
