"""The audit list's filters: a form, so a bad value is a message, not an error."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from leadsadmin.schema import BULK_EDITABLE_FIELDS

OUTCOMES = [
    ("", "Any outcome"),
    ("applied", "Applied to every lead"),
    ("partial", "Partly applied"),
    ("failed", "Failed or stopped, nothing applied"),
    ("cancelled", "Cancelled"),
    ("running", "Queued or running"),
    ("draft", "Reviewed, not applied"),
    ("discarded", "Reviewed, then discarded"),
    ("revert", "Reverts"),
]


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model()
        .objects.filter(bulk_operations__isnull=False)
        .distinct()
        .order_by("username"),
        to_field_name="username",
        required=False,
        empty_label="Anyone",
        label="Reviewed by",
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    field = forms.ChoiceField(
        required=False,
        label="Field changed",
        choices=[("", "Any field"), *((f.name, f.label) for f in BULK_EDITABLE_FIELDS)],
    )
    value = forms.CharField(required=False, label="Value set", max_length=200)
    outcome = forms.ChoiceField(required=False, choices=OUTCOMES, label="Outcome")
    reason = forms.CharField(required=False, label="Reason contains", max_length=200)
    mine = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
