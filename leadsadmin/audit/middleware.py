"""Refused attempts to open a bulk, revert or proposal page are audit events."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from leadsadmin.audit.events import audit_event_record
from leadsadmin.audit.models import AuditEvent

GUARDED_NAMESPACES = frozenset({"bulk", "proposals"})


def is_guarded(request) -> bool:
    """A page that changes leads or decides who may: bulk edits, reverts, proposals."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    return bool(GUARDED_NAMESPACES & set(match.namespaces)) or "revert" in (match.url_name or "")


class RefusedAccessAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied) and is_guarded(request):
            audit_event_record(
                kind=AuditEvent.Kind.ACCESS_REFUSED,
                request=request,
                user=request.user,
                detail=str(exception),
            )
        return None  # Django's 403 handler renders the page as before
