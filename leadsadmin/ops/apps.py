from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the product: `manage.py demo` and `/healthz`. The top of the
    house: it may use every other app, and none uses it."""

    name = "leadsadmin.ops"
    label = "ops"
