from django.urls import path

from leadsadmin.bulk import views

app_name = "bulk"

urlpatterns = [
    path("new", views.bulk_new, name="new"),
    path("new/field", views.bulk_field_row, name="field_row"),
    path("<int:operation_id>/", views.bulk_operation, name="operation"),
    path("<int:operation_id>/review", views.bulk_review, name="review"),
    path("<int:operation_id>/edit", views.bulk_edit, name="edit"),
    path("<int:operation_id>/discard", views.bulk_discard, name="discard"),
    path("<int:operation_id>/review-again", views.bulk_review_again, name="review_again"),
    path("<int:operation_id>/apply", views.bulk_apply, name="apply"),
    path("<int:operation_id>/cancel", views.bulk_cancel, name="cancel"),
    path("<int:operation_id>/retry", views.bulk_retry, name="retry"),
    path("<int:operation_id>/revert", views.bulk_revert, name="revert"),
    path("<int:operation_id>/errors.csv", views.bulk_errors_csv, name="errors_csv"),
]
