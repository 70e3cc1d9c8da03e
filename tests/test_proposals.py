"""Proposed bulk edits through the Django test client, against the sandbox over
real HTTP: propose, send, the approver's review now, approve and apply, reject,
withdraw, the four-eyes threshold, who may do each, notices, emails and audit."""

import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client

from leadsadmin.audit.models import AuditEvent, ChainLink
from leadsadmin.bulk.models import BulkOperation
from leadsadmin.bulk.operations import OperationRefused, bulk_drafts, bulk_operation_apply
from leadsadmin.bulk.signals import operation_ended
from leadsadmin.proposals.models import Proposal
from leadsadmin.proposals.services import REVIEW_FRESH_FOR
from leadsadmin.sandbox.models import Lead
from tests.fixtures_bulk import DUMMY_TASKS, IMMEDIATE_TASKS, filter_qs

State = Proposal.State
OperationState = BulkOperation.State
Kind = AuditEvent.Kind
ON_HOLD = filter_qs(("processStatuses", "equals", "On Hold"))
live = pytest.mark.django_db(transaction=True)


def _text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _nav(response) -> str:
    return response.content.decode().split('<nav aria-label="Main">')[1].split("</nav>")[0]


@pytest.fixture
def signed_in(make_user):
    """(kind, username) → a Django test client of its own, signed in."""

    def sign_in(kind, username=None):
        client = Client()
        client.force_login(make_user(kind, username=username))
        return client

    return sign_in


def _change_post(client, url, query=ON_HOLD, reason="Duplicates from the fair"):
    data = {
        "action": "review",
        "fields": ["processStatuses"],
        "value-processStatuses": "Lost",
        "reason": reason,
    }
    return client.post(f"{url}?{query}", data)


def _propose(client, query=ON_HOLD) -> Proposal:
    """Proposes and sends; returns the open proposal."""
    response = _change_post(client, "/proposals/new", query)
    proposal = Proposal.objects.latest("id")
    assert response["Location"] == f"/proposals/{proposal.pk}/"
    client.post(f"/proposals/{proposal.pk}/send")
    proposal.refresh_from_db()
    assert proposal.state == State.OPEN
    return proposal


def _on_hold() -> int:
    return Lead.objects.filter(processStatuses="On Hold").count()


# ---------------------------------------------------------------- proposing


@live
def test_the_leads_page_offers_propose_to_sales_ops_and_bulk_edit_to_team_leads(
    seeded_sandbox, signed_in
):
    salesops = _text(signed_in("salesops").get(f"/leads/?{ON_HOLD}"))
    teamlead = _text(signed_in("teamlead").get(f"/leads/?{ON_HOLD}"))
    assert "Propose bulk edit" in salesops and "Bulk edit" not in salesops
    assert "Bulk edit" in teamlead and "Propose bulk edit" not in teamlead


@live
def test_sales_ops_proposes_reviews_the_count_and_sends_for_approval(seeded_sandbox, signed_in):
    client = signed_in("salesops")
    form = client.get(f"/proposals/new?{ON_HOLD}")
    assert form.status_code == 200
    assert f"{_on_hold()} leads match the filter" in _text(form)
    assert '<label for="reason">Reason for this change</label>' in form.content.decode()

    response = _change_post(client, "/proposals/new")
    draft = Proposal.objects.get()
    assert response["Location"] == f"/proposals/{draft.pk}/"
    assert draft.state == State.DRAFT and draft.count_seen == _on_hold()
    assert draft.filter_query == ON_HOLD
    assert draft.changes == [{"field": "processStatuses", "mode": "replace", "value": "Lost"}]
    assert BulkOperation.objects.count() == 0  # a proposal pins nothing

    review = _text(client.get(f"/proposals/{draft.pk}/"))
    assert f"{_on_hold()} leads match now" in review
    assert "Process status processStatuses → Lost" in review
    assert "Reason for this change: Duplicates from the fair" in review
    assert "Send for approval" in review

    sent = client.post(f"/proposals/{draft.pk}/send", follow=True)
    draft.refresh_from_db()
    assert draft.state == State.OPEN and draft.proposed_at is not None
    assert f"Proposal {draft.pk} was sent for approval" in _text(sent)
    event = AuditEvent.objects.get(kind=Kind.PROPOSAL_SENT)
    assert event.detail.startswith(f"Proposal {draft.pk}: sent for approval")
    assert event.user.username == "salesops"
    # Sending twice (a second tab) records it once.
    client.post(f"/proposals/{draft.pk}/send")
    assert AuditEvent.objects.filter(kind=Kind.PROPOSAL_SENT).count() == 1


@live
def test_proposing_keeps_invalid_input_and_adds_fields_with_htmx(seeded_sandbox, signed_in):
    client = signed_in("salesops")
    response = client.post(
        f"/proposals/new?{ON_HOLD}",
        {"action": "review", "fields": ["processStatuses"], "value-processStatuses": "Lost"},
    )
    assert response.status_code == 200
    assert "Give a reason for this change" in _text(response)
    assert Proposal.objects.count() == 0
    row = client.post(
        "/bulk/new/field", {"add_field": "processStatuses"}, headers={"HX-Request": "true"}
    )
    assert row.status_code == 200
    assert 'id="row-processStatuses"' in row.content.decode()
    assert 'hx-post="/bulk/new/field"' in row.content.decode()  # the one row endpoint


@live
def test_a_filter_matching_nothing_is_not_proposed(seeded_sandbox, signed_in):
    nothing = filter_qs(("email", "equals", "nobody@nowhere.example"))
    response = _change_post(signed_in("salesops"), "/proposals/new", nothing)
    assert response.status_code == 200
    assert "No leads match this filter" in _text(response)
    assert Proposal.objects.count() == 0


# ---------------------------------------------------------------- who may do what


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "allowed"),
    [
        ("salesops", {"new", "mine"}),
        ("teamlead", {"new", "mine", "index"}),
        ("auditor", set()),
        ("admin", {"new", "mine", "index"}),
        ("norole", set()),
    ],
)
def test_each_role_opens_exactly_its_proposal_pages(signed_in, kind, allowed, settings):
    settings.LEADS_API_URL = "http://127.0.0.1:9/api"  # the form's count fails fast
    settings.LEADS_API_KEY = "k"
    client = signed_in(kind)
    for name, path in {
        "new": "/proposals/new",
        "mine": "/proposals/mine",
        "index": "/proposals/",
    }.items():
        assert client.get(path).status_code == (200 if name in allowed else 403), (kind, name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        ("salesops", {"My proposals"}),
        ("teamlead", {"Proposals", "My proposals"}),
        ("auditor", set()),
        ("admin", {"Proposals", "My proposals"}),
    ],
)
def test_the_navigation_shows_proposals_to_approvers_and_my_proposals_to_proposers(
    signed_in, make_user, kind, shown
):
    proposer = make_user("salesops", username="proposer")
    Proposal.objects.create(
        proposed_by=proposer, changes=[], reason="r", count_seen=3, state=State.OPEN
    )
    client = signed_in(kind)
    nav = _nav(client.get("/audit/" if kind == "auditor" else "/proposals/mine"))
    assert ('href="/proposals/"' in nav and ">Proposals<" in nav) is ("Proposals" in shown)
    assert ('href="/proposals/mine"' in nav) is ("My proposals" in shown)
    assert ("1 open" in nav) is ("Proposals" in shown)


@pytest.mark.django_db
def test_the_open_count_leaves_out_a_team_leads_own_proposals(signed_in, make_user):
    own = make_user("teamlead", username="lead1")
    Proposal.objects.create(proposed_by=own, changes=[], reason="r", count_seen=3, state="open")
    client = Client()
    client.force_login(own)
    assert "open</small>" not in _nav(client.get("/proposals/mine"))
    assert "1 open" in _nav(signed_in("teamlead", "lead2").get("/proposals/mine"))


@live
def test_auditors_read_a_proposal_but_may_not_decide_it(seeded_sandbox, signed_in, settings):
    proposal = _propose(signed_in("salesops"))
    auditor = signed_in("auditor")
    page = auditor.get(f"/proposals/{proposal.pk}/")
    assert page.status_code == 200
    text = _text(page)
    assert "Reason for this change: Duplicates from the fair" in text
    assert "Approve and apply" not in text and "Reject" not in text and "Withdraw" not in text
    assert BulkOperation.objects.count() == 0  # an auditor's visit pins nothing
    assert auditor.post(f"/proposals/{proposal.pk}/approve", {"review": 1}).status_code == 403
    assert auditor.post(f"/proposals/{proposal.pk}/reject", {"comment": "x"}).status_code == 403
    assert auditor.post(f"/proposals/{proposal.pk}/withdraw").status_code == 403
    # Another sales ops person may neither read nor decide it.
    other = signed_in("salesops", "other")
    assert other.get(f"/proposals/{proposal.pk}/").status_code == 403
    assert other.post(f"/proposals/{proposal.pk}/approve", {"review": 1}).status_code == 403


@live
def test_a_draft_is_seen_by_its_proposer_only(seeded_sandbox, signed_in):
    client = signed_in("salesops")
    _change_post(client, "/proposals/new")
    draft = Proposal.objects.get()
    assert signed_in("teamlead").get(f"/proposals/{draft.pk}/").status_code == 403
    assert signed_in("salesops", "other").post(f"/proposals/{draft.pk}/send").status_code == 404
    assert draft.state == State.DRAFT


# ---------------------------------------------------------------- the approver's review


@live
def test_opening_reviews_the_leads_now_and_shows_the_difference(seeded_sandbox, signed_in):
    proposal = _propose(signed_in("salesops"))
    then = proposal.count_seen
    # Someone changes leads between proposing and opening.
    moved = list(
        Lead.objects.filter(processStatuses="Qualified Lead").values_list("id", flat=True)[:5]
    )
    Lead.objects.filter(id__in=moved).update(processStatuses="On Hold")
    now = _on_hold()
    assert now == then + 5

    approver = signed_in("teamlead")
    text = _text(approver.get(f"/proposals/{proposal.pk}/"))
    assert f"{now} leads match now; {then} matched when it was proposed" in text
    assert "(5 more than when it was proposed)" in text
    assert f"On Hold {now} → Lost" in text
    proposal.refresh_from_db()
    review = proposal.review
    assert review.state == OperationState.REVIEWED and review.total == now
    assert review.created_by.username == "teamlead"
    assert "Approve and apply" in text and "Reject" in text
    # The approver's review is applied from the proposal, not listed among their drafts.
    assert not bulk_drafts(review.created_by).exists()
    assert review.pk not in {op.pk for op in BulkOperation.objects.filter(listed_as_draft=True)}

    # Opening it again at once (a reload) shows the same review: nothing is pinned again.
    approver.get(f"/proposals/{proposal.pk}/")
    proposal.refresh_from_db()
    assert proposal.review == review
    # Later, it reviews the leads again and discards the old review: no orphan.
    BulkOperation.objects.filter(pk=review.pk).update(
        created_at=review.created_at - REVIEW_FRESH_FOR
    )
    approver.get(f"/proposals/{proposal.pk}/")
    review.refresh_from_db()
    assert review.state == OperationState.DISCARDED
    assert BulkOperation.objects.filter(state=OperationState.REVIEWED).count() == 1


# ---------------------------------------------------------------- approve


@live
def test_approve_and_apply_runs_as_the_approvers_operation_and_tells_the_proposer(
    seeded_sandbox, signed_in, settings
):
    settings.TASKS = IMMEDIATE_TASKS
    proposer = signed_in("salesops")
    proposal = _propose(proposer)
    approver = signed_in("teamlead")
    approver.get(f"/proposals/{proposal.pk}/")
    proposal.refresh_from_db()
    review = proposal.review
    expected = review.total

    response = approver.post(
        f"/proposals/{proposal.pk}/approve",
        {"review": review.pk, "confirmation": str(expected)},
    )
    assert response["Location"] == f"/bulk/{review.pk}/"
    proposal.refresh_from_db()
    operation = BulkOperation.objects.get(pk=review.pk)
    assert proposal.state == State.APPROVED and proposal.operation == operation
    assert proposal.decided_by.username == "teamlead"
    assert operation.state == OperationState.FINISHED
    assert operation.created_by.username == operation.applied_by.username == "teamlead"
    assert f"Proposed by salesops (proposal {proposal.pk})" in operation.reason
    assert operation.updated_count == expected and _on_hold() == 0

    event = AuditEvent.objects.get(kind=Kind.PROPOSAL_APPROVED)
    assert event.detail.startswith(
        f"Proposal {proposal.pk}: approved and applied as bulk operation {operation.pk}"
    )
    assert event.user.username == "teamlead"
    assert event.operation == operation
    assert ChainLink.objects.filter(record_type="event", record_id=event.pk).exists()
    # The operation's record and its leads' history show the approval.
    audit_page = approver.get(f"/audit/operations/{operation.pk}/").text
    assert "Proposal approved by teamlead" in audit_page
    lead_id = operation.pinned.first().lead_id
    assert "Proposal approved by teamlead" in approver.get(f"/audit/leads/{lead_id}/").text

    # Two emails: the approval, then the job's outcome.
    assert [m.to for m in mail.outbox] == [["salesops@example.com"]] * 2
    assert f"Approved and applied: {expected} leads updated" in mail.outbox[-1].body

    # The notice shows once, on the proposer's next page.
    notice = f"Approved and applied: {expected} leads updated"
    assert notice in _text(proposer.get("/proposals/mine"))
    assert notice not in _text(proposer.get("/proposals/mine"))
    mine = _text(proposer.get("/proposals/mine"))
    assert "Approved" in mine and f"{expected} of {expected} leads updated" in mine
    page = _text(proposer.get(f"/proposals/{proposal.pk}/"))
    assert f"Applied as bulk operation {operation.pk}" in page
    assert "Proposal approved" in page and "Bulk edit proposed" in page


@live
def test_nobody_approves_their_own_proposal(seeded_sandbox, signed_in, make_user):
    lead = signed_in("teamlead")
    proposal = _propose(lead)
    page = _text(lead.get(f"/proposals/{proposal.pk}/"))
    assert "You proposed this yourself: another team lead must approve or reject it." in page
    assert "Approve and apply" not in page and "Withdraw" in page
    assert BulkOperation.objects.count() == 0
    response = lead.post(f"/proposals/{proposal.pk}/approve", {"review": 1}, follow=True)
    assert "You proposed this yourself" in _text(response)
    lead.post(f"/proposals/{proposal.pk}/reject", {"comment": "never mind"})
    proposal.refresh_from_db()
    assert proposal.state == State.OPEN


@live
def test_a_superuser_does_not_approve_their_own_proposal_either(seeded_sandbox, signed_in):
    admin = signed_in("admin")
    proposal = _propose(admin)
    admin.post(f"/proposals/{proposal.pk}/approve", {"review": 1})
    proposal.refresh_from_db()
    assert proposal.state == State.OPEN


@live
def test_approving_a_review_replaced_since_is_refused(seeded_sandbox, signed_in, settings):
    settings.TASKS = DUMMY_TASKS
    proposal = _propose(signed_in("salesops"))
    first, second = signed_in("teamlead", "lead1"), signed_in("teamlead", "lead2")
    first.get(f"/proposals/{proposal.pk}/")
    proposal.refresh_from_db()
    stale = proposal.review
    second.get(f"/proposals/{proposal.pk}/")  # replaces the first one's review
    response = first.post(
        f"/proposals/{proposal.pk}/approve",
        {"review": stale.pk, "confirmation": str(stale.total)},
        follow=True,
    )
    assert "no longer the current one" in _text(response)
    proposal.refresh_from_db()
    assert proposal.state == State.OPEN


@live
def test_a_missing_confirmation_keeps_the_proposal_open(seeded_sandbox, signed_in, settings):
    settings.TASKS = DUMMY_TASKS
    settings.BULK_CONFIRM_THRESHOLD = 1
    proposal = _propose(signed_in("salesops"))
    approver = signed_in("teamlead")
    approver.get(f"/proposals/{proposal.pk}/")
    proposal.refresh_from_db()
    response = approver.post(f"/proposals/{proposal.pk}/approve", {"review": proposal.review_id})
    assert response.status_code == 400
    assert f"Type {proposal.review.total} to confirm" in _text(response)
    proposal.refresh_from_db()
    assert proposal.state == State.OPEN
    assert proposal.review.state == OperationState.REVIEWED
    assert not AuditEvent.objects.filter(kind=Kind.PROPOSAL_APPROVED).exists()


# ---------------------------------------------------------------- reject, withdraw


@live
def test_reject_needs_a_comment_discards_the_review_and_tells_the_proposer(
    seeded_sandbox, signed_in
):
    proposer = signed_in("salesops")
    proposal = _propose(proposer)
    approver = signed_in("teamlead")
    approver.get(f"/proposals/{proposal.pk}/")
    proposal.refresh_from_db()
    review = proposal.review

    empty = approver.post(f"/proposals/{proposal.pk}/reject", {"comment": ""})
    assert empty.status_code == 400
    assert "Say why you reject it" in _text(empty)
    review.refresh_from_db()
    assert review.state == OperationState.REVIEWED  # shown again, not pinned again
    assert BulkOperation.objects.count() == 1

    response = approver.post(f"/proposals/{proposal.pk}/reject", {"comment": "Wrong fair"})
    assert response["Location"] == "/proposals/"
    proposal.refresh_from_db()
    review.refresh_from_db()
    assert proposal.state == State.REJECTED and proposal.comment == "Wrong fair"
    assert proposal.operation is None
    assert review.state == OperationState.DISCARDED
    event = AuditEvent.objects.get(kind=Kind.PROPOSAL_REJECTED)
    assert (
        event.detail == f"Proposal {proposal.pk}: rejected, no bulk operation. Comment: Wrong fair"
    )

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["salesops@example.com"]
    assert "rejected by teamlead: Wrong fair" in mail.outbox[0].body
    notice = f"Proposal {proposal.pk} was rejected by teamlead: Wrong fair"
    assert notice in _text(proposer.get("/leads/"))
    assert notice not in _text(proposer.get("/proposals/mine"))
    # Decided once: approving it now is refused.
    approver.post(f"/proposals/{proposal.pk}/approve", {"review": review.pk})
    proposal.refresh_from_db()
    assert proposal.state == State.REJECTED


@live
def test_the_proposer_withdraws_an_open_proposal(seeded_sandbox, signed_in):
    proposer = signed_in("salesops")
    proposal = _propose(proposer)
    approver = signed_in("teamlead")
    approver.get(f"/proposals/{proposal.pk}/")
    proposal.refresh_from_db()
    review = proposal.review

    signed_in("salesops", "other").post(f"/proposals/{proposal.pk}/withdraw")
    approver.post(f"/proposals/{proposal.pk}/withdraw")
    proposal.refresh_from_db()
    assert proposal.state == State.OPEN  # only its proposer withdraws it

    response = proposer.post(f"/proposals/{proposal.pk}/withdraw", follow=True)
    assert f"Proposal {proposal.pk} was withdrawn." in _text(response)
    proposal.refresh_from_db()
    review.refresh_from_db()
    assert proposal.state == State.WITHDRAWN
    assert review.state == OperationState.DISCARDED
    assert AuditEvent.objects.get(kind=Kind.PROPOSAL_WITHDRAWN).detail == (
        f"Proposal {proposal.pk}: withdrawn by its proposer, no bulk operation."
    )
    again = proposer.post(f"/proposals/{proposal.pk}/withdraw", follow=True)
    assert "only an open proposal can be withdrawn" in _text(again)
    approver.post(f"/proposals/{proposal.pk}/approve", {"review": review.pk})
    proposal.refresh_from_db()
    assert proposal.state == State.WITHDRAWN
    assert mail.outbox == []


# ---------------------------------------------------------------- the threshold


@live
def test_above_the_threshold_a_team_leads_edit_becomes_a_proposal(
    seeded_sandbox, signed_in, settings
):
    settings.TASKS = IMMEDIATE_TASKS
    settings.BULK_APPROVAL_THRESHOLD = 5
    lead = signed_in("teamlead", "lead1")
    _change_post(lead, "/bulk/new")
    own = BulkOperation.objects.get()
    assert own.total > 5
    review = _text(lead.get(f"/bulk/{own.pk}/review"))
    assert "Send for approval" in review and "Apply changes" not in review

    refused = lead.post(f"/bulk/{own.pk}/apply", {"confirmation": str(own.total)})
    assert refused.status_code == 400
    assert "send it for approval by another team lead" in _text(refused)

    response = lead.post(f"/proposals/from-review/{own.pk}")
    proposal = Proposal.objects.get()
    assert response["Location"] == f"/proposals/{proposal.pk}/"
    own.refresh_from_db()
    assert own.state == OperationState.DISCARDED
    assert proposal.state == State.OPEN and proposal.count_seen == own.total
    assert proposal.proposed_by.username == "lead1"
    assert f"from the review of bulk operation {own.pk}" in (
        AuditEvent.objects.get(kind=Kind.PROPOSAL_SENT).detail
    )

    other = signed_in("teamlead", "lead2")
    other.get(f"/proposals/{proposal.pk}/")
    proposal.refresh_from_db()
    other.post(
        f"/proposals/{proposal.pk}/approve",
        {"review": proposal.review_id, "confirmation": str(proposal.review.total)},
    )
    proposal.refresh_from_db()
    assert proposal.state == State.APPROVED
    assert proposal.operation.state == OperationState.FINISHED
    assert proposal.operation.applied_by.username == "lead2"


@live
def test_the_threshold_lives_in_the_service(seeded_sandbox, prepare_operation, lost, settings):
    settings.BULK_APPROVAL_THRESHOLD = 5
    operation = prepare_operation(ON_HOLD, lost)
    with pytest.raises(OperationRefused, match="send it for approval"):
        bulk_operation_apply(
            operation=operation, user=operation.created_by, confirmation=str(operation.total)
        )
    operation.refresh_from_db()
    assert operation.state == OperationState.REVIEWED


@live
@pytest.mark.parametrize(("exempt", "needs_approval"), [(True, False), (False, True)])
def test_superusers_are_exempt_when_the_setting_says_so(
    seeded_sandbox, signed_in, settings, exempt, needs_approval
):
    settings.BULK_APPROVAL_THRESHOLD = 5
    settings.BULK_APPROVAL_EXEMPT_SUPERUSERS = exempt
    settings.TASKS = DUMMY_TASKS
    admin = signed_in("admin")
    _change_post(admin, "/bulk/new")
    operation = BulkOperation.objects.get()
    review = _text(admin.get(f"/bulk/{operation.pk}/review"))
    assert ("Send for approval" in review) is needs_approval
    assert ("Apply changes" in review) is not needs_approval
    response = admin.post(f"/bulk/{operation.pk}/apply", {"confirmation": str(operation.total)})
    assert response.status_code == (400 if needs_approval else 302)


@live
def test_at_or_below_the_threshold_team_leads_apply_alone(seeded_sandbox, signed_in, settings):
    settings.TASKS = DUMMY_TASKS
    lead = signed_in("teamlead")
    _change_post(lead, "/bulk/new")
    operation = BulkOperation.objects.get()
    settings.BULK_APPROVAL_THRESHOLD = operation.total
    review = _text(lead.get(f"/bulk/{operation.pk}/review"))
    assert "Apply changes" in review and "Send for approval" not in review


@pytest.mark.django_db
def test_only_your_own_review_is_sent_for_approval(signed_in, make_operation):
    operation = make_operation(state=OperationState.REVIEWED)
    response = signed_in("teamlead", "someone").post(
        f"/proposals/from-review/{operation.pk}", follow=True
    )
    assert "Only your own bulk edit's review" in _text(response)
    assert Proposal.objects.count() == 0
    assert signed_in("salesops").post(f"/proposals/from-review/{operation.pk}").status_code == 403


# ---------------------------------------------------------------- the job's outcome


@pytest.mark.django_db(transaction=True)
def test_a_failed_job_is_emailed_and_noticed(signed_in, make_user, make_operation):
    proposer = make_user("salesops", username="proposer")
    operation = make_operation(state=OperationState.FAILED)
    proposal = Proposal.objects.create(
        proposed_by=proposer,
        changes=operation.changes,
        reason="r",
        count_seen=3,
        state=State.APPROVED,
        operation=operation,
        decided_by=operation.created_by,
    )
    operation_ended.send(sender=None, operation_id=operation.pk)
    assert len(mail.outbox) == 1
    assert "but its bulk operation failed: 1 lead of 3 updated" in mail.outbox[0].body
    client = Client()
    client.force_login(proposer)
    text = _text(client.get("/proposals/mine"))
    assert f"Proposal {proposal.pk} was approved by {operation.created_by.username}" in text
    assert "failed: 1 lead of 3 updated" in text


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_does_not_break_the_outcome(
    make_user, make_operation, settings, caplog
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    operation = make_operation(state=OperationState.FINISHED)
    proposal = Proposal.objects.create(
        proposed_by=make_user("salesops"),
        changes=operation.changes,
        reason="r",
        count_seen=3,
        state=State.APPROVED,
        operation=operation,
        decided_by=operation.created_by,
    )
    operation_ended.send(sender=None, operation_id=operation.pk)
    proposal.refresh_from_db()
    assert proposal.unread
    assert f"Proposal {proposal.pk}: email to its proposer failed" in caplog.text


@live
def test_does_not_contain_counts_the_same_on_every_page_of_a_proposal(seeded_sandbox, signed_in):
    """Leads with no notes do not contain "test": the leads page, the proposal when
    proposed and the approver's page all count them. Clearing Notes leaves them as
    they are, so the review pins the others and says so (it used to say only the
    pinned ones "match now")."""
    query = filter_qs(
        ("processStatuses", "in", ["On Hold", "Qualified Lead"]),
        ("notes", "not_contains", "test"),
    )
    matching = Lead.objects.filter(processStatuses__in=["On Hold", "Qualified Lead"])
    Lead.objects.filter(id__in=list(matching.values_list("id", flat=True)[:4])).update(notes=None)
    expected = sum(1 for lead in matching if "test" not in (lead.notes or "").lower())
    empty = sum(1 for lead in matching if not lead.notes)
    assert 4 <= empty < expected
    proposer = signed_in("salesops")
    assert f"{expected} leads match" in _text(proposer.get(f"/leads/?{query}"))
    assert f"{expected} leads match the filter" in _text(proposer.get(f"/proposals/new?{query}"))
    data = {"action": "review", "fields": ["notes"], "clear-notes": "1", "reason": "Stale"}
    proposer.post(f"/proposals/new?{query}", data)
    proposal = Proposal.objects.get()
    proposer.post(f"/proposals/{proposal.pk}/send")
    assert proposal.count_seen == expected

    text = _text(signed_in("teamlead").get(f"/proposals/{proposal.pk}/"))
    assert f"{expected} leads match now; {expected} matched when it was proposed" in text
    assert f"{expected - empty} leads will change ; {empty} already have these values" in text
    proposal.refresh_from_db()
    review = proposal.review
    assert (review.total, review.unchanged_count) == (expected - empty, empty)
    assert review.pinned.count() == expected - empty


@live
def test_back_from_a_draft_keeps_the_form_and_saving_edits_that_draft(seeded_sandbox, signed_in):
    client = signed_in("salesops")
    data = {
        "action": "review",
        "fields": ["processStatuses", "exterior"],
        "value-processStatuses": "Lost",
        "mode-exterior": "add",
        "value-exterior": ["Red", "Blue"],
        "reason": "Fair leads, painted",
    }
    client.post(f"/proposals/new?{ON_HOLD}", data)
    draft = Proposal.objects.get()
    assert (
        f'href="/proposals/{draft.pk}/edit"'
        in client.get(f"/proposals/{draft.pk}/").content.decode()
    )

    form = client.get(f"/proposals/{draft.pk}/edit")
    html = form.content.decode()
    assert f'action="?{ON_HOLD}"' in html.replace("&amp;", "&")
    assert '<option value="Lost" selected>' in html
    assert 'name="mode-exterior" value="add" id="mode-exterior_1" checked>' in html
    for color in ("Red", "Blue"):
        assert re.search(rf'name="value-exterior" value="{color}" id="[\w-]+" checked>', html)
    assert "Fair leads, painted</textarea>" in html
    assert f'name="replaces" value="{draft.pk}"' in html
    assert f"{_on_hold()} leads match the filter" in _text(form)

    again = client.post(
        f"/proposals/new?{ON_HOLD}", {**data, "reason": "Fair leads", "replaces": draft.pk}
    )
    assert again["Location"] == f"/proposals/{draft.pk}/"
    draft.refresh_from_db()
    assert Proposal.objects.count() == 1 and draft.reason == "Fair leads"
    assert draft.changes[1] == {"field": "exterior", "mode": "add", "value": ["Blue", "Red"]}

    # Nobody edits another person's draft; a sent proposal is not edited either, and
    # a form still naming it (another tab) becomes a new draft.
    assert signed_in("salesops", "other").get(f"/proposals/{draft.pk}/edit").status_code == 404
    client.post(f"/proposals/{draft.pk}/send")
    assert client.get(f"/proposals/{draft.pk}/edit").status_code == 404
    client.post(f"/proposals/new?{ON_HOLD}", {**data, "replaces": draft.pk})
    draft.refresh_from_db()
    assert draft.state == State.OPEN and draft.reason == "Fair leads"
    assert Proposal.objects.filter(state=State.DRAFT).count() == 1
