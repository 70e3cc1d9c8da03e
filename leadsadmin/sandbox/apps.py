from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "leadsadmin.sandbox"
    label = "sandbox"

    def ready(self):
        from . import lookups  # noqa: F401  (registers the LIKE lookups)
