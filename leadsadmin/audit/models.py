"""Audit events and the hash chain over every ended record.

An `AuditEvent` is something worth keeping that is not a bulk operation: a
failed sign-in, a refused attempt to open a bulk or revert page, a bulk edit
proposed, approved, rejected or withdrawn. Events are
append-only: once written they cannot be saved again or deleted.

The chain (`ChainLink`) holds, for each ended bulk operation and each event in
the order they ended, the SHA-256 of the record's canonical content and of the
link before it; `manage.py audit_verify` recomputes it (see `chain.py`).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from leadsadmin.bulk.models import BulkOperation
from leadsadmin.core.records import RecordFrozen


class AppendOnlyQuerySet(models.QuerySet):
    """Rows are only ever added: a queryset may neither update nor delete them."""

    def update(self, **kwargs):
        raise RecordFrozen(f"{self.model.__name__} rows are append-only: they cannot be updated.")

    def delete(self):
        raise RecordFrozen(f"{self.model.__name__} rows are append-only: they cannot be deleted.")

    delete.queryset_only = True


class AppendOnly(models.Model):
    """A row that is written once: a second save() and any delete() are refused."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RecordFrozen(
                f"{type(self).__name__} {self.pk} is an audit record: it is kept as written."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RecordFrozen(
            f"{type(self).__name__} {self.pk} is an audit record: it cannot be deleted."
        )


class AuditEvent(AppendOnly):
    class Kind(models.TextChoices):
        SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
        SIGN_IN_LOCKED = "sign_in_locked", "Sign-in locked out"
        ACCESS_REFUSED = "access_refused", "Refused access"
        PROPOSAL_SENT = "proposal_sent", "Bulk edit proposed"
        PROPOSAL_APPROVED = "proposal_approved", "Proposal approved"
        PROPOSAL_REJECTED = "proposal_rejected", "Proposal rejected"
        PROPOSAL_WITHDRAWN = "proposal_withdrawn", "Proposal withdrawn"

    kind = models.CharField(max_length=32, choices=Kind, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="As typed or signed in.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    path = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    operation = models.ForeignKey(
        BulkOperation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        help_text="The bulk operation it concerns.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.username or 'anonymous'}"


class ChainLink(AppendOnly):
    """One ended record in the chain: `hash` = SHA-256 of the link before it, the
    record's kind and id, and the SHA-256 of its canonical content."""

    class Record(models.TextChoices):
        OPERATION = "operation", "Bulk operation"
        EVENT = "event", "Event"

    record_type = models.CharField(max_length=16, choices=Record)
    record_id = models.BigIntegerField()
    content_hash = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="audit_link_once")
        ]

    def __str__(self):
        return f"Link {self.pk}: {self.record_type} {self.record_id}"


class ChainHead(models.Model):
    """One row, locked while a link is added, so that two workers ending at once
    cannot both append after the same link."""

    last_hash = models.CharField(max_length=64, blank=True)


class ChainCheck(AppendOnly):
    """A run of `audit_verify`: when, and what it found (shown on the audit page)."""

    checked_at = models.DateTimeField(default=timezone.now)
    intact = models.BooleanField()
    records = models.PositiveIntegerField()
    message = models.TextField()

    class Meta:
        ordering = ["-checked_at", "-id"]
        get_latest_by = "checked_at"
