"""The audit records in Django's admin: to look at, never to change."""

from django.contrib import admin

from leadsadmin.audit.models import AuditEvent, ChainCheck, ChainLink
from leadsadmin.bulk.models import BulkChunk, BulkOperation, PinnedLead


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BulkOperation)
class BulkOperationAdmin(ReadOnlyAdmin):
    list_display = ("id", "state", "created_by", "created_at", "applied_by", "total", "reason")
    list_filter = ("state",)
    search_fields = ("reason",)


@admin.register(PinnedLead)
class PinnedLeadAdmin(ReadOnlyAdmin):
    list_display = ("operation", "lead_id", "outcome", "message")
    list_filter = ("outcome",)
    search_fields = ("=lead_id",)


@admin.register(BulkChunk)
class BulkChunkAdmin(ReadOnlyAdmin):
    list_display = ("operation", "number", "requested", "updated", "errors", "conflicts", "status")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "username", "ip_address", "path")
    list_filter = ("kind",)


@admin.register(ChainLink)
class ChainLinkAdmin(ReadOnlyAdmin):
    list_display = ("id", "record_type", "record_id", "hash", "linked_at")


@admin.register(ChainCheck)
class ChainCheckAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "intact", "records", "message")
