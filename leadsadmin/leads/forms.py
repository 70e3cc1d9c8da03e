from django import forms

from leadsadmin.leads.models import SavedFilter


class SavedFilterForm(forms.ModelForm):
    class Meta:
        model = SavedFilter
        fields = ["name", "shared", "query"]
        labels = {"name": "Filter name"}
        widgets = {"query": forms.HiddenInput}
