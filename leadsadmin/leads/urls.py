from django.urls import path

from leadsadmin.leads import views

app_name = "leads"

urlpatterns = [
    path("", views.index, name="index"),
]
