"""Writing audit events: one function, used by the sign-in signal and the
middleware that sees refused pages."""

from __future__ import annotations

from django.db import transaction

from leadsadmin.audit.chain import chain_append
from leadsadmin.audit.models import AuditEvent, ChainLink

USER_AGENT_MAX = 500


def request_origin(request) -> dict:
    """The requester's address and browser, as kept with every audit record."""
    if request is None:
        return {"ip_address": None, "user_agent": ""}
    return {
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
    }


def audit_event_record(*, kind: str, request=None, user=None, username="", detail="") -> AuditEvent:
    """Writes an event and seals it into the chain, both or neither."""
    if user is not None and not user.is_authenticated:
        user = None
    with transaction.atomic():
        event = AuditEvent.objects.create(
            kind=kind,
            user=user,
            username=username or (user.get_username() if user else ""),
            path=request.get_full_path()[:2000] if request is not None else "",
            detail=detail,
            **request_origin(request),
        )
        chain_append(ChainLink.Record.EVENT, event.pk)
    return event
