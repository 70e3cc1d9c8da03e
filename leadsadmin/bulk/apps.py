from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "leadsadmin.bulk"
    label = "bulk"
