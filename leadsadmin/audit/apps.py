from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "leadsadmin.audit"
    label = "audit"

    def ready(self):
        from leadsadmin.audit import receivers  # noqa: F401  (connects the signal)
