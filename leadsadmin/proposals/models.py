"""A proposed bulk edit: what someone who may not (or, above the threshold, may
not alone) apply a bulk edit asks a team lead to apply.

A proposal pins nothing. It keeps the leads-page query string, the changes, the
reason and how many leads matched when it was sent; the approver's review pins
the leads as they are when the proposal is opened (`review`), and approving
applies that review as the approver's bulk operation (`operation`).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from leadsadmin.bulk.changes import Change
from leadsadmin.bulk.models import BulkOperation


class Proposal(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Not sent yet"
        OPEN = "open", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    created_at = models.DateTimeField(default=timezone.now)
    proposed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    filter_query = models.TextField(blank=True, help_text="The leads page's query string.")
    changes = models.JSONField(help_text="A list of Change.as_json().")
    reason = models.TextField()
    count_seen = models.PositiveIntegerField(help_text="Leads that matched when it was proposed.")
    state = models.CharField(max_length=16, choices=State, default=State.DRAFT, db_index=True)

    review = models.ForeignKey(
        BulkOperation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The approver's latest review: the leads pinned at opening.",
    )
    operation = models.ForeignKey(
        BulkOperation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The bulk operation its approval applied.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="Why it was rejected.")
    # Set when there is an outcome the proposer has not been told of on a page yet.
    unread = models.BooleanField(default=False)

    class Meta:
        ordering = ["-proposed_at", "-id"]

    def __str__(self):
        return f"Proposal {self.pk} ({self.state})"

    def get_absolute_url(self):
        return reverse("proposals:detail", kwargs={"proposal_id": self.pk})

    @property
    def change_list(self) -> list[Change]:
        return [Change.from_json(item) for item in self.changes]

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN
