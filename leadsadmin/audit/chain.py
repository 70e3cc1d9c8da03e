"""The hash chain over ended audit records, and its verification.

Each link's hash covers the link before it, the record's kind and id, and the
SHA-256 of the record's canonical content: every column of the record and, for a
bulk operation, of its chunks and of each pinned lead (before and after values,
outcome, message), in a fixed order. Editing any of them, removing a link or
reordering links after the fact breaks the chain at that record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from leadsadmin.audit.models import AuditEvent, ChainCheck, ChainHead, ChainLink
from leadsadmin.bulk.models import BulkOperation, PinnedLead

GENESIS = "0" * 64
Record = ChainLink.Record


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _line(kind: str, instance) -> bytes:
    """One row as canonical JSON: every column, keys sorted, no spaces."""
    row = {f.attname: _plain(getattr(instance, f.attname)) for f in instance._meta.concrete_fields}
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}:{text}\n".encode()


def content_hash(record_type: str, record_id: int) -> str | None:
    """SHA-256 of the record's canonical content; None when the record is gone."""
    digest = hashlib.sha256()
    if record_type == Record.EVENT:
        event = AuditEvent.objects.filter(pk=record_id).first()
        if event is None:
            return None
        digest.update(_line("event", event))
        return digest.hexdigest()
    operation = BulkOperation.objects.filter(pk=record_id).first()
    if operation is None:
        return None
    digest.update(_line("operation", operation))
    for chunk in operation.chunks.order_by("number"):
        digest.update(_line("chunk", chunk))
    pins = PinnedLead.objects.filter(operation=operation).order_by("lead_id")
    for pin in pins.iterator(chunk_size=2000):
        digest.update(_line("lead", pin))
    return digest.hexdigest()


def link_hash(previous_hash: str, record_type: str, record_id: int, content: str) -> str:
    text = f"{previous_hash}|{record_type}|{record_id}|{content}"
    return hashlib.sha256(text.encode()).hexdigest()


def chain_append(record_type: str, record_id: int) -> ChainLink:
    """Seals an ended record: adds its link after the newest one (once; a record
    already in the chain keeps its link)."""
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        existing = ChainLink.objects.filter(record_type=record_type, record_id=record_id).first()
        if existing is not None:
            return existing
        content = content_hash(record_type, record_id)
        if content is None:
            raise ValueError(f"There is no {record_type} {record_id} to seal.")
        previous = head.last_hash or GENESIS
        link = ChainLink.objects.create(
            record_type=record_type,
            record_id=record_id,
            content_hash=content,
            previous_hash=previous,
            hash=link_hash(previous, record_type, record_id, content),
        )
        # The head row is not an audit record: it only says where the chain ends.
        ChainHead.objects.filter(pk=head.pk).update(last_hash=link.hash)
    return link


@dataclass
class ChainReport:
    intact: bool
    records: int
    message: str


def _broken(link: ChainLink, records: int, why: str) -> ChainReport:
    where = f"link {link.pk} ({link.get_record_type_display().lower()} {link.record_id})"
    return ChainReport(False, records, f"audit chain broken at {where}: {why}")


def chain_verify() -> ChainReport:
    """Walks the chain from its first link and recomputes every hash."""
    previous, records = GENESIS, 0
    for link in ChainLink.objects.order_by("id").iterator(chunk_size=500):
        if link.previous_hash != previous:
            return _broken(link, records, "the link before it was removed or changed")
        content = content_hash(link.record_type, link.record_id)
        if content is None:
            return _broken(link, records, "the record was deleted")
        if content != link.content_hash:
            return _broken(link, records, "the record was changed after it was sealed")
        if link.hash != link_hash(previous, link.record_type, link.record_id, content):
            return _broken(link, records, "the link's own hash was changed")
        previous, records = link.hash, records + 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash and head.last_hash != previous:
        return ChainReport(
            False, records, "audit chain broken at its end: newer links were removed"
        )
    return ChainReport(True, records, f"audit chain intact: {records} records")


def chain_check() -> ChainReport:
    """Verifies the chain and keeps the result (the audit page shows the last one)."""
    report = chain_verify()
    ChainCheck.objects.create(intact=report.intact, records=report.records, message=report.message)
    return report
