"""Reads for the audit pages."""

from leadsadmin.bulk.models import BulkOperation


def audit_operations():
    """Every bulk operation that got as far as a review, newest first (the
    model's ordering); one still pinning has nothing to show yet."""
    return BulkOperation.objects.exclude(state=BulkOperation.State.PINNING).select_related(
        "created_by", "applied_by"
    )
