"""The audit pages per role, the list's filters and paging, exports, a lead's history."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation

State = BulkOperation.State


@pytest.fixture
def operations(make_operation, make_user, db):
    ann, bob = make_user("teamlead", "ann"), make_user("teamlead", "bob")
    three_days_ago = timezone.now() - timedelta(days=3)
    lost = make_operation(user=ann, reason="Duplicates from the fair", created_at=three_days_ago)
    reason = make_operation(
        user=bob,
        reason='=HYPERLINK("http://x")',
        changes=[Change("reason", "replace", "Test").as_json()],
        outcomes={7: ("updated", "")},
    )
    draft = make_operation(user=ann, state=State.REVIEWED, outcomes={8: ("pending", "")})
    return {"lost": lost, "reason": reason, "draft": draft}


def _ids(response) -> list[int]:
    table = (
        response.text.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in response.text else ""
    )
    return [int(part.split("/")[0]) for part in table.split('href="/audit/operations/')[1:]]


URLS = ["/audit/", "/audit/operations.csv", "/audit/operations.json"]


@pytest.mark.parametrize(
    ("kind", "allowed"),
    [
        ("auditor", True),
        ("teamlead", True),
        ("admin", True),
        ("salesops", False),
        ("norole", False),
    ],
)
def test_each_role_and_each_audit_url(client_as, operations, kind, allowed):
    client = client_as(kind)
    lost = operations["lost"]
    urls = [
        *URLS,
        f"/audit/operations/{lost.pk}/",
        f"/audit/operations/{lost.pk}/leads.csv",
        f"/audit/operations/{lost.pk}/leads.json",
        "/audit/leads/1/",
        "/audit/leads/?q=1",
    ]
    for url in urls:
        status = client.get(url).status_code
        assert (status in (200, 302)) is allowed, (kind, url, status)


def test_the_list_filters_by_user_dates_field_value_outcome_and_reason(client_as, operations):
    client = client_as("auditor")
    lost, reason, draft = operations["lost"], operations["reason"], operations["draft"]
    assert _ids(client.get("/audit/")) == [draft.pk, reason.pk, lost.pk]
    assert _ids(client.get("/audit/?user=bob")) == [reason.pk]
    today = timezone.localdate().isoformat()
    assert lost.pk not in _ids(client.get(f"/audit/?date_from={today}"))
    assert _ids(client.get(f"/audit/?date_to={(timezone.localdate() - timedelta(days=2))}")) == [
        lost.pk
    ]
    assert _ids(client.get("/audit/?field=reason")) == [reason.pk]
    assert _ids(client.get("/audit/?value=lost")) == [draft.pk, lost.pk]
    assert _ids(client.get("/audit/?outcome=draft")) == [draft.pk]
    assert _ids(client.get("/audit/?reason=fair")) == [lost.pk]
    page = client.get("/audit/?reason=fair&field=processStatuses")
    assert "<strong>1</strong> operation" in page.text
    assert 'href="/audit/operations.csv?reason=fair&amp;field=processStatuses"' in page.text


def test_a_bad_filter_says_so_and_lists_everything(client_as, operations):
    page = client_as("auditor").get("/audit/?date_from=yesterday&date_to=2020-01-01")
    assert "Enter a valid date." in page.text
    assert len(_ids(page)) == 3


def test_my_operations_are_the_team_leads_own(client, make_user, operations):
    client.force_login(BulkOperation.objects.get(pk=operations["lost"].pk).created_by)
    page = client.get("/audit/?mine=1")
    assert "<h1>My operations</h1>" in page.text
    assert _ids(page) == [operations["draft"].pk, operations["lost"].pk]


def test_the_list_is_paginated(client_as, make_operation, db, settings):
    for _ in range(51):
        make_operation(outcomes={1: ("updated", "")})
    client = client_as("auditor")
    first, second = (
        client.get("/audit/?reason=Duplicate"),
        client.get("/audit/?reason=Duplicate&page=2"),
    )
    assert len(_ids(first)) == 50 and len(_ids(second)) == 1
    assert 'href="?reason=Duplicate&amp;page=2" rel="next"' in first.text


def test_exports_carry_the_filtered_list_and_csv_is_formula_safe(client_as, operations):
    client = client_as("auditor")
    rows = list(csv.reader(io.StringIO(_text(client.get("/audit/operations.csv?user=bob")))))
    assert rows[0][:3] == ["Operation", "State", "Outcome"]
    assert len(rows) == 2
    assert rows[1][rows[0].index("Reason")] == '\'=HYPERLINK("http://x")'
    data = json.loads(client.get("/audit/operations.json?user=bob").content)
    assert [row["operation"] for row in data["operations"]] == [operations["reason"].pk]
    assert data["operations"][0]["reviewed_by"] == "bob"
    assert client.get("/audit/operations.xml").status_code == 404  # not a CSV named .xml


def _text(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_an_operations_page_shows_each_lead_before_and_after_with_exports(client_as, operations):
    lost = operations["lost"]
    client = client_as("auditor")
    page = client.get(f"/audit/operations/{lost.pk}/").text
    assert "Process status is On Hold" in page.replace("equals", "is")
    assert 'href="/audit/leads/1/"' in page
    assert "On Hold → Lost" in page
    assert "The API refused a value: Reason" in page  # the error in plain words
    assert "The following field is invalid: Reason" in page  # and as the API said it
    assert "Revert this operation" not in page  # auditors read only
    leads = list(
        csv.reader(io.StringIO(_text(client.get(f"/audit/operations/{lost.pk}/leads.csv"))))
    )
    assert leads[0][:4] == ["Lead ID", "Outcome", "Process status before", "Process status after"]
    assert leads[1][:4] == ["1", "Updated", "On Hold", "Lost"]


def test_exports_write_an_empty_value_as_an_empty_cell_and_json_downloads(client_as, operations):
    client = client_as("auditor")
    reason = operations["reason"]  # lead 7 had no reason before
    text = _text(client.get(f"/audit/operations/{reason.pk}/leads.csv"))
    leads = list(csv.reader(io.StringIO(text)))
    assert leads[0][:3] == ["Lead ID", "Outcome", "Reason before"]
    assert leads[1][:3] == ["7", "Updated", ""]
    assert "(empty)" not in text
    for url, name in [
        ("/audit/operations.json", "audit-operations.json"),
        (f"/audit/operations/{reason.pk}/leads.json", f"operation-{reason.pk}-leads.json"),
    ]:
        response = client.get(url)
        assert response["Content-Type"] == "application/json"
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    leads = json.loads(response.content)["leads"]
    assert leads[0]["Reason before"] == ""


def test_a_team_lead_sees_revert_on_an_ended_operation(client_as, operations):
    page = client_as("teamlead").get(f"/audit/operations/{operations['lost'].pk}/").text
    assert "Revert this operation" in page


def test_a_leads_history_lists_every_operation_oldest_first(client_as, operations):
    client = client_as("auditor")
    page = client.get("/audit/leads/1/").text
    assert "1 operation touched this lead" in page
    assert "Duplicates from the fair" in page
    assert "Process status: On Hold → Lost" in page
    assert "No bulk operation has touched lead 99" in client.get("/audit/leads/99/").text


def test_the_search_takes_an_id_or_says_what_to_type(client_as, operations):
    client = client_as("auditor")
    assert client.get("/audit/leads/?q=42")["Location"] == "/audit/leads/42/"
    follow = client.get("/audit/leads/?q=nothing", follow=True)
    assert "Type a lead id (a number) or an email address." in follow.text


def test_the_search_finds_a_lead_by_email_through_the_api(client_as, seeded_sandbox):
    from leadsadmin.sandbox.models import Lead

    lead = Lead.objects.exclude(email=None).exclude(email="").order_by("id").first()
    same = Lead.objects.filter(email=lead.email).count()
    response = client_as("auditor").get("/audit/leads/", {"q": lead.email.upper()})
    if same == 1:
        assert response["Location"] == f"/audit/leads/{lead.id}/"
    else:
        assert f'href="/audit/leads/{lead.id}/"' in response.text
