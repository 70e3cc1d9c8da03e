from django.urls import path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("leads", views.leads, name="leads"),
    path("leads/count", views.leads_count, name="leads_count"),
    path("leads/<str:lead_id>", views.lead, name="lead"),
]
