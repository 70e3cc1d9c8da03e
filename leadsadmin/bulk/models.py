"""A bulk operation, the leads it pinned at review, and the outcome of each chunk.

The operation is a row before any PATCH is sent, and each chunk's outcome is
written (chunk row + its leads' outcomes + the operation's counters) in one
transaction before the next chunk's: whatever moment a worker dies at, the
rows say which leads are done, and a resumed run only sends the rest.

They are also the audit record. Once an operation has ended (finished, stopped,
cancelled, failed, discarded) neither it nor its chunks and leads can be changed:
save() and queryset update() refuse, and delete() always refuses. A retry of an
ended operation is a new operation ("Retry of #N").
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from leadsadmin.bulk.changes import Change, change_describe
from leadsadmin.core.jsontext import JSONTextField
from leadsadmin.core.records import RecordFrozen

ENDED_STATES = ("finished", "stopped", "cancelled", "failed", "discarded")


class _FrozenWhenEnded(models.QuerySet):
    """Rows of ended operations are never updated, and no row is ever deleted."""

    ended_lookup = "state__in"

    def update(self, **kwargs):
        if self.filter(**{self.ended_lookup: ENDED_STATES}).exists():
            raise RecordFrozen(
                f"{self.model.__name__} rows of an ended bulk operation cannot be changed."
            )
        return super().update(**kwargs)

    def update_while_running(self, **kwargs):
        """update() without the check's query, for a bulk run's own writes: its
        filter names a running operation (`state=running`), or it runs in the
        transaction that has just updated one so (which holds the row's lock).
        A run writes twice per chunk, and the checks cost it ~5 % (bench_bulk)."""
        return super().update(**kwargs)

    def delete(self):
        raise RecordFrozen(f"{self.model.__name__} rows are audit records: never deleted.")

    delete.queryset_only = True


class _OperationRowQuerySet(_FrozenWhenEnded):
    ended_lookup = "operation__state__in"


class BulkOperation(models.Model):
    class State(models.TextChoices):
        PINNING = "pinning", "Preparing the review"
        REVIEWED = "reviewed", "Reviewed, not applied"
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Reviewed, then discarded"

    # States a worker is (or should be) busy with.
    ACTIVE_STATES = (State.QUEUED, State.RUNNING)
    # States after which "Retry failed" may run the leads not done yet (as a new operation).
    RETRYABLE_STATES = (State.STOPPED, State.FAILED, State.CANCELLED, State.FINISHED)
    ENDED_STATES = ENDED_STATES

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulk_operations"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reviewed_from = models.GenericIPAddressField(null=True, blank=True)
    reviewed_user_agent = models.TextField(blank=True)
    reason = models.TextField()
    filter_query = models.TextField(blank=True, help_text="The leads page's query string.")
    where = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(help_text="A list of Change.as_json().")
    # Written once from `changes`, so the audit can filter with plain lookups.
    fields_changed = models.TextField(blank=True, editable=False, help_text="|name|name|")
    values_set = models.TextField(blank=True, editable=False, help_text="New values, in words.")
    bodies = models.JSONField(
        default=list, help_text="The distinct PATCH bodies; PinnedLead.body_index points here."
    )
    total = models.PositiveIntegerField(default=0, help_text="Leads pinned at review.")
    unchanged_count = models.PositiveIntegerField(
        default=0, help_text="Leads that matched but already had every new value: not sent."
    )
    pinned_since = models.DateTimeField(
        help_text="When pinning started: leads updated after this are conflicts."
    )
    value_counts = models.JSONField(
        default=dict, help_text="field → [[value, count], ...] among the pinned leads."
    )
    sample = models.JSONField(default=list, help_text="A few pinned leads, for the review.")
    needs_confirmation = models.BooleanField(default=False)
    # A review not applied is its reviewer's draft, to resume or discard; a proposal's
    # review is applied (or not) from the proposal, so it is not listed among drafts.
    listed_as_draft = models.BooleanField(default=True)

    state = models.CharField(max_length=16, choices=State, default=State.PINNING, db_index=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_from = models.GenericIPAddressField(null=True, blank=True)
    applied_user_agent = models.TextField(blank=True)
    reverts = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reverted_by",
        help_text="The operation whose changes this one undoes.",
    )
    retry_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retries",
        help_text="The ended operation whose leads not done this one runs again.",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Each enqueue gets a new token; a run whose token is no longer the
    # operation's stops writing (a newer run took over after a stall).
    run_token = models.CharField(max_length=32, blank=True)
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_start_done = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The chunks that may have been sent and are not recorded yet (at most two: the
    # next PATCH goes out while the last answer is written), as a span in sending
    # order: {"body_index", "first", "last_body_index", "last"} (lead ids). Left
    # set by a crash or a failed request, it tells the next run that those leads
    # may already have been applied.
    in_flight = models.JSONField(null=True, blank=True)
    # The bulk_worker (WorkerBeat.name) whose run holds it; empty until a run
    # claims it, or when a worker that does not beat runs it.
    worker = models.CharField(max_length=64, blank=True)
    # The current run's task in the task backend, which the sweep asks about.
    task_id = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(default=False)
    stop_reason = models.TextField(blank=True)

    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    conflict_count = models.PositiveIntegerField(default=0)
    check_count = models.PositiveIntegerField(
        default=0, help_text="Leads applied whose other fields changed outside this edit."
    )

    objects = _FrozenWhenEnded.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Bulk operation {self.pk} ({self.state})"

    def save(self, *args, **kwargs):
        stored = BulkOperation.objects.filter(pk=self.pk, state__in=ENDED_STATES)
        if self.pk is not None and stored.exists():
            raise RecordFrozen(f"Bulk operation {self.pk} has ended: it is kept as it was.")
        if self._state.adding:
            self.fields_changed = "|" + "".join(f"{c['field']}|" for c in self.changes)
            self.values_set = "\n".join(change_describe(c) for c in self.change_list)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("bulk:operation", kwargs={"operation_id": self.pk})

    def delete(self, *args, **kwargs):
        raise RecordFrozen(f"Bulk operation {self.pk} is an audit record: never deleted.")

    @property
    def has_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def change_list(self) -> list[Change]:
        return [Change.from_json(item) for item in self.changes]

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def changed_fields(self) -> list[str]:
        return [item["field"] for item in self.changes]

    @property
    def to_change(self) -> int:
        """At review: the leads that will be sent (a revert skips those changed since)."""
        return self.total - self.conflict_count

    @property
    def applied_count(self) -> int:
        """Leads given the new values: updated, or updated and to check."""
        return self.updated_count + self.check_count

    @property
    def done_count(self) -> int:
        return self.updated_count + self.error_count + self.conflict_count + self.check_count

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def is_stalled(self) -> bool:
        """Active, but nobody works on it: the worker running it stopped beating,
        or no sign of life for longer than a chunk can take (while queued: and no
        worker is alive to take it; a busy queue is not a stall)."""
        if not self.is_active or self.heartbeat_at is None:
            return False
        silent = timezone.now() - self.heartbeat_at > stall_after()
        if self.state == self.State.RUNNING:
            return silent or (
                bool(self.worker)
                and not WorkerBeat.objects.alive().filter(name=self.worker).exists()
            )
        return silent and not WorkerBeat.objects.alive().exists()

    @property
    def has_work_left(self) -> bool:
        return self.done_count < self.total


class _WorkerBeatQuerySet(models.QuerySet):
    def alive(self):
        since = timezone.now() - timedelta(seconds=settings.BULK_WORKER_DEAD_AFTER)
        return self.filter(stopped_at__isnull=True, beat_at__gte=since)


class WorkerBeat(models.Model):
    """A `manage.py bulk_worker` process and its last sign of life: it beats every
    BULK_WORKER_BEAT_SECONDS and is dead once its beat is older than
    BULK_WORKER_DEAD_AFTER, or once it says it stopped."""

    name = models.CharField(max_length=64, unique=True, help_text="host:pid:random")
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    objects = _WorkerBeatQuerySet.as_manager()

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self):
        return self.name


def stall_after() -> timedelta:
    # A heartbeat is written before and after every request, so two request
    # timeouts plus slack without one means nobody is working on it.
    return timedelta(seconds=2 * settings.LEADS_API_TIMEOUT + 15)


class _OperationRow(models.Model):
    """A row that belongs to an operation: frozen once the operation has ended."""

    objects = _OperationRowQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if BulkOperation.objects.filter(pk=self.operation_id, state__in=ENDED_STATES).exists():
            raise RecordFrozen(
                f"Bulk operation {self.operation_id} has ended: its rows are kept as they were."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RecordFrozen(f"{type(self).__name__} rows are audit records: never deleted.")


class BulkChunk(_OperationRow):
    """One PATCH request of a run and what the API answered."""

    operation = models.ForeignKey(BulkOperation, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    body_index = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(default=timezone.now)
    requested = models.PositiveIntegerField()
    updated = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    checks = models.PositiveIntegerField(default=0, help_text="Leads changed outside this edit.")
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status.")
    message = models.TextField(blank=True, help_text="The API's message.")

    class Meta:
        ordering = ["operation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "number"], name="bulk_chunk_number")
        ]


class PinnedLead(_OperationRow):
    """A lead matched at review, its values then, and what happened to it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not done yet"
        UPDATED = "updated", "Updated"
        ERROR = "error", "Error"
        CONFLICT = "conflict", "Conflict"
        # Applied, but after a request that failed on the way some other field no
        # longer holds what it held at review (a bulk write that is not atomic).
        CHECK = "check", "Changed outside this edit — check"

    # Outcomes of leads that hold the edit's new values (what a revert puts back).
    APPLIED = (Outcome.UPDATED, Outcome.CHECK)

    operation = models.ForeignKey(BulkOperation, on_delete=models.CASCADE, related_name="pinned")
    lead_id = models.BigIntegerField()
    updated_at = models.CharField(max_length=40, help_text="updatedAt as the API gave it.")
    before = models.JSONField(help_text="The changed fields' values at review.")
    snapshot = JSONTextField(
        null=True,
        blank=True,
        help_text="Every field at review but id and updatedAt; a field left out was null.",
    )
    body_index = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome, default=Outcome.PENDING)
    after = models.JSONField(null=True, blank=True, help_text="As returned by the API.")
    message = models.TextField(blank=True)
    outside_changes = models.JSONField(
        null=True,
        blank=True,
        help_text="[[field, value expected, value found], ...] of a lead to check.",
    )
    chunk = models.ForeignKey(
        BulkChunk, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )

    class Meta:
        ordering = ["operation", "lead_id"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "lead_id"], name="bulk_pinned_lead_once")
        ]
        indexes = [
            models.Index(
                fields=["operation", "outcome", "body_index", "lead_id"],
                name="bulk_pinned_next_chunk",
            )
        ]

    def __str__(self):
        return f"Lead {self.lead_id} in bulk operation {self.operation_id}"
