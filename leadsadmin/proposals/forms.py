"""The approver's two forms; proposing uses bulk's BulkChangeForm."""

from django import forms

from leadsadmin.bulk.forms import REASON_MAX_LENGTH


class ApproveForm(forms.Form):
    """Approve and apply: names the review the approver saw, so that a newer one
    (someone opened the proposal again) is not applied unseen."""

    review = forms.IntegerField(widget=forms.HiddenInput)
    confirmation = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data, auto_id="%s", label_suffix="", **kwargs)


class RejectForm(forms.Form):
    comment = forms.CharField(
        label="Why reject it",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": False}),
        error_messages={
            "required": "Say why you reject it: the proposer reads this.",
            "max_length": f"Keep the comment under {REASON_MAX_LENGTH} characters.",
        },
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data, auto_id="%s", label_suffix="", **kwargs)
