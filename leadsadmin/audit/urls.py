from django.urls import path

from leadsadmin.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_index, name="index"),
]
