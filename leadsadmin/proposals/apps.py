from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "leadsadmin.proposals"
    label = "proposals"

    def ready(self):
        from leadsadmin.proposals import receivers  # noqa: F401  (connects the signal)
