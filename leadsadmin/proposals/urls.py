from django.urls import path

from leadsadmin.proposals import views

app_name = "proposals"

urlpatterns = [
    path("", views.proposal_list, name="index"),
    path("mine", views.proposal_mine, name="mine"),
    path("new", views.proposal_new, name="new"),
    path("from-review/<int:operation_id>", views.proposal_from_review_view, name="from_review"),
    path("<int:proposal_id>/", views.proposal_detail, name="detail"),
    path("<int:proposal_id>/edit", views.proposal_edit, name="edit"),
    path("<int:proposal_id>/send", views.proposal_send_view, name="send"),
    path("<int:proposal_id>/approve", views.proposal_approve_view, name="approve"),
    path("<int:proposal_id>/reject", views.proposal_reject_view, name="reject"),
    path("<int:proposal_id>/withdraw", views.proposal_withdraw_view, name="withdraw"),
]
