from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "leadsadmin.audit"
    label = "audit"
