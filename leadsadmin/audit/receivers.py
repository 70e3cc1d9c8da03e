"""Failed sign-ins (Django's `user_login_failed`) and lockouts (django-axes's
`user_locked_out`) are audit events."""

from __future__ import annotations

from axes.signals import user_locked_out
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


@receiver(user_locked_out, dispatch_uid="audit_sign_in_locked")
def sign_in_locked(sender, request=None, username=None, ip_address=None, **kwargs):
    audit_event_record(
        kind=AuditEvent.Kind.SIGN_IN_LOCKED,
        request=request,
        username=str(username or "")[:150],
        detail="Locked out after too many wrong passwords.",
    )
