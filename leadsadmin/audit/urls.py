from django.urls import path

from leadsadmin.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_index, name="index"),
    path("operations.<str:fmt>", views.audit_export, name="export"),
    path("operations/<int:operation_id>/", views.audit_operation, name="operation"),
    path(
        "operations/<int:operation_id>/leads.<str:fmt>",
        views.audit_operation_export,
        name="operation_export",
    ),
    path("leads/", views.audit_lead_search, name="lead_search"),
    path("leads/<int:lead_id>/", views.audit_lead, name="lead"),
]
