from django.urls import path, register_converter

from leadsadmin.audit import views


class ExportFormat:
    """The formats the audit exports come in; any other is a 404, not a CSV."""

    regex = "csv|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExportFormat, "export_format")

app_name = "audit"

urlpatterns = [
    path("", views.audit_index, name="index"),
    path("operations.<export_format:fmt>", views.audit_export, name="export"),
    path("operations/<int:operation_id>/", views.audit_operation, name="operation"),
    path(
        "operations/<int:operation_id>/leads.<export_format:fmt>",
        views.audit_operation_export,
        name="operation_export",
    ),
    path("leads/", views.audit_lead_search, name="lead_search"),
    path("leads/<int:lead_id>/", views.audit_lead, name="lead"),
]
