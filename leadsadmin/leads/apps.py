from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadsadmin.leads"
    label = "leads"
