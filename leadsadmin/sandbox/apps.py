from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "leadsadmin.sandbox"
    label = "sandbox"
