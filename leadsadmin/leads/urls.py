from django.urls import path

from leadsadmin.leads import views

app_name = "leads"

urlpatterns = [
    path("", views.index, name="index"),
    path("where", views.load_where, name="load_where"),
    path("condition/<int:row>", views.condition_row, name="condition"),
    path("export.csv", views.export_csv, name="export"),
    path("<int:lead_id>/", views.lead_detail, name="detail"),
    path("detail/closed", views.lead_detail_closed, name="detail_closed"),
    path("saved/", views.saved_filter_new, name="saved_new"),
    path("saved/<int:saved_filter_id>/delete", views.saved_filter_remove, name="saved_delete"),
]
