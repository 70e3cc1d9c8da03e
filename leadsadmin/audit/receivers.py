"""Failed sign-ins are audit events (Django's `user_login_failed` signal)."""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from leadsadmin.audit.events import audit_event_record
from leadsadmin.audit.models import AuditEvent


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    audit_event_record(
        kind=AuditEvent.Kind.SIGN_IN_FAILED,
        request=request,
        username=str(credentials.get("username", ""))[:150],
        detail="Wrong user name or password.",
    )
