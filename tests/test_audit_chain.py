"""The hash chain over ended records, `audit_verify`, and append-only events."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from leadsadmin.audit.chain import chain_append, chain_verify
from leadsadmin.audit.events import audit_event_record
from leadsadmin.audit.models import AuditEvent, ChainCheck, ChainLink
from leadsadmin.core.records import RecordFrozen

OPERATION, EVENT = ChainLink.Record.OPERATION, ChainLink.Record.EVENT


@pytest.fixture
def sealed(make_operation, db):
    """Two sealed operations with an event between them."""
    first = make_operation()
    chain_append(OPERATION, first.pk)
    event = audit_event_record(kind=AuditEvent.Kind.SIGN_IN_FAILED, username="mallory")
    second = make_operation()
    chain_append(OPERATION, second.pk)
    return first, event, second


def verify(capsys) -> str:
    call_command("audit_verify")
    return capsys.readouterr().out.strip()


def test_an_untouched_chain_is_intact(sealed, capsys):
    assert verify(capsys) == "audit chain intact: 3 records"
    assert ChainCheck.objects.latest().intact


def test_each_link_covers_the_one_before(sealed):
    links = list(ChainLink.objects.order_by("id"))
    assert links[0].previous_hash == "0" * 64
    assert [link.previous_hash for link in links[1:]] == [link.hash for link in links[:-1]]
    assert len({link.hash for link in links}) == 3


def test_sealing_twice_keeps_the_first_link(sealed):
    first = sealed[0]
    again = chain_append(OPERATION, first.pk)
    assert again == ChainLink.objects.get(record_type=OPERATION, record_id=first.pk)
    assert ChainLink.objects.count() == 3


def _raw(sql: str, params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_lead_row_edited_with_raw_sql_breaks_the_chain_at_its_operation(sealed):
    first = sealed[0]
    _raw(
        "UPDATE bulk_pinnedlead SET after = %s WHERE operation_id = %s AND lead_id = 1",
        ['{"processStatuses": "Qualified Lead"}', first.pk],
    )
    link = ChainLink.objects.get(record_type=OPERATION, record_id=first.pk)
    with pytest.raises(CommandError) as refused:
        call_command("audit_verify")
    assert str(refused.value) == (
        f"audit chain broken at link {link.pk} (bulk operation {first.pk}): "
        "the record was changed after it was sealed"
    )
    assert not ChainCheck.objects.latest().intact


def test_an_event_edited_with_raw_sql_breaks_the_chain(sealed):
    event = sealed[1]
    _raw("UPDATE audit_auditevent SET username = 'alice' WHERE id = %s", [event.pk])
    report = chain_verify()
    assert not report.intact
    assert report.records == 1
    assert "(event " in report.message and "changed after it was sealed" in report.message


def test_a_removed_link_breaks_the_chain_at_the_next_one(sealed):
    middle = ChainLink.objects.get(record_type=EVENT)
    _raw("DELETE FROM audit_chainlink WHERE id = %s", [middle.pk])
    report = chain_verify()
    assert not report.intact
    assert "the link before it was removed or changed" in report.message


def test_a_removed_newest_link_is_noticed(sealed):
    newest = ChainLink.objects.order_by("-id").first()
    _raw("DELETE FROM audit_chainlink WHERE id = %s", [newest.pk])
    report = chain_verify()
    assert report.message == "audit chain broken at its end: newer links were removed"


def test_events_and_links_cannot_be_changed_or_deleted(sealed):
    event = sealed[1]
    event.detail = "edited"
    with pytest.raises(RecordFrozen):
        event.save()
    with pytest.raises(RecordFrozen):
        event.delete()
    with pytest.raises(RecordFrozen):
        AuditEvent.objects.filter(pk=event.pk).update(detail="edited")
    with pytest.raises(RecordFrozen):
        AuditEvent.objects.all().delete()
    with pytest.raises(RecordFrozen):
        ChainLink.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).detail == ""
    assert ChainLink.objects.count() == 3


def test_a_failed_sign_in_is_an_event_in_the_chain(client, make_user):
    make_user("teamlead", username="ann")
    response = client.post(
        "/login/", {"username": "ann", "password": "wrong"}, HTTP_USER_AGENT="Firefox/140"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.kind, event.username, event.ip_address, event.user_agent) == (
        "sign_in_failed",
        "ann",
        "127.0.0.1",
        "Firefox/140",
    )
    assert ChainLink.objects.filter(record_type=EVENT, record_id=event.pk).exists()


def test_a_refused_bulk_page_is_an_event_and_a_refused_leads_page_is_not(client_as):
    client = client_as("salesops")
    assert client.get(reverse("bulk:new")).status_code == 403
    event = AuditEvent.objects.get()
    assert (event.kind, event.username, event.path) == ("access_refused", "salesops", "/bulk/new")
    client_as("auditor")
    assert client.get(reverse("leads:index")).status_code == 403
    assert AuditEvent.objects.count() == 1


def test_five_wrong_passwords_lock_the_user_out_even_with_the_right_one_and_are_audited(
    client, make_user, settings
):
    make_user("teamlead", username="ann")  # password "pw"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "ann", "password": "wrong"})
    response = client.post("/login/", {"username": "ann", "password": "pw"})
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.text
    assert "Try again in 15 min," in response.text  # words, not axes' ISO "PT15M"
    assert "_auth_user_id" not in client.session
    kinds = list(AuditEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds.count("sign_in_failed") >= settings.AXES_FAILURE_LIMIT
    assert "sign_in_locked" in kinds
    other_user = make_user("auditor", username="bob")
    assert other_user.check_password("pw")
    response = client.post("/login/", {"username": "bob", "password": "pw"})
    assert response.status_code == 302  # the lock is per user name and address
