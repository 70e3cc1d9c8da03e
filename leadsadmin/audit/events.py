"""Writing audit events: one function, used by the sign-in signal and the
middleware that sees refused pages."""

from __future__ import annotations

from django.db import transaction

from leadsadmin.audit.chain import chain_append
from leadsadmin.audit.models import AuditEvent, ChainLink
from leadsadmin.core.origin import request_origin


def audit_event_record(
    *, kind: str, request=None, user=None, username="", detail="", operation=None
) -> AuditEvent:
    """Writes an event and seals it into the chain, both or neither."""
    if user is not None and not user.is_authenticated:
        user = None
    origin = request_origin(request)
    with transaction.atomic():
        event = AuditEvent.objects.create(
            kind=kind,
            user=user,
            username=username or (user.get_username() if user else ""),
            path=request.get_full_path()[:2000] if request is not None else "",
            detail=detail,
            operation=operation,
            ip_address=origin["ip"],
            user_agent=origin["user_agent"],
        )
        chain_append(ChainLink.Record.EVENT, event.pk)
    return event
