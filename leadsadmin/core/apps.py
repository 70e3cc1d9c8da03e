from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadsadmin.core"
    label = "core"
    verbose_name = "Leads Admin"
