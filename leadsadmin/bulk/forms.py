"""The "choose changes" form, as Django forms.

The fields to change are chosen at run time, one row each, so the page is a list
of small forms held together by `BulkChangeForm`: a `ChangeRowForm` per chosen
field (its value control from `leads.widgets.value_form_field`, judged by
`changes.change_validate`), the `ChangeReasonForm`, and the `FieldPickerForm`
behind "Add field to change". Names in the POST data:

    fields           the chosen field names, in order (repeated)
    value-<name>     the new value (repeated for the items of an enum list)
    mode-<name>      for enum lists: replace / add / remove
    clear-<name>     "1" when Clear value is ticked
    reason           Reason for this change
    add_field        the field picked in "Add field to change"
    replaces         the review that Back to edit came from (reviewing again replaces it)
"""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from leadsadmin.bulk.changes import (
    ADD,
    BULK_EDITABLE_NAMES,
    CLEAR,
    MODE_LABELS,
    REMOVE,
    REPLACE,
    Change,
    ChangeInvalid,
    change_validate,
)
from leadsadmin.leads.widgets import value_form_field, widget_kind
from leadsadmin.schema import BULK_EDITABLE_FIELDS, GROUP_LABELS, FieldType, Group, lead_field

REASON_MAX_LENGTH = 2000


class ChangeRowForm(forms.Form):
    """One chosen field: its new value, how to apply it (enum lists only) and,
    for a field that may be empty, Clear value."""

    clear = forms.BooleanField(
        label="Clear value",
        required=False,
        # Posts "1", as the page always has.
        widget=forms.CheckboxInput(attrs={"value": "1"}),
    )

    def __init__(self, data=None, *, lead_field, initial=None):
        super().__init__(data, initial=initial, prefix=lead_field.name, auto_id="%s")
        self.lead_field = lead_field
        self.name = lead_field.name
        several = lead_field.is_list
        self.kind = widget_kind(lead_field, several=several)
        value = value_form_field(lead_field, several=several)
        # The field draws the control; the schema judges the value (in clean(),
        # through change_validate), with messages that name the field.
        value.validate = _validated_in_clean
        if isinstance(value.widget, forms.widgets.Input):
            # Keeps the markup the page has always had: type, step and id, then name.
            value.widget.template_name = "bulk/value_input.html"
        if self.kind == "ids":
            value.widget.attrs["aria-describedby"] = f"hint-{self.name}"
        self.fields["value"] = value
        if lead_field.type is FieldType.ENUM_LIST:
            self.fields["mode"] = forms.ChoiceField(
                choices=[(mode, MODE_LABELS[mode]) for mode in (REPLACE, ADD, REMOVE)],
                initial=REPLACE,
                required=False,
                widget=forms.RadioSelect,
            )
        if not lead_field.nullable:
            del self.fields["clear"]

    def add_prefix(self, field_name: str) -> str:
        # "value-year" rather than Django's "year-value": the names the page posts.
        return f"{field_name}-{self.prefix}"

    def clean(self):
        data = super().clean()
        mode = CLEAR if data.get("clear") else data.get("mode") or REPLACE
        try:
            data["change"] = change_validate(self.name, mode, data.get("value"))
        except ChangeInvalid as exc:
            raise forms.ValidationError(str(exc)) from None
        return data

    @property
    def change(self) -> Change:
        return self.cleaned_data["change"]

    def unvalidated(self) -> ChangeRowForm:
        """The row as posted, shown back without judging it (adding or removing
        another row is no time for error messages)."""
        return ChangeRowForm(lead_field=self.lead_field, initial=_as_initial(self))


def _validated_in_clean(value) -> None:
    """Nothing to check here: ChangeRowForm.clean() asks the schema."""


class ChangeReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason for this change",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": False}),
        error_messages={
            "required": "Give a reason for this change: it is kept with the operation.",
            "max_length": f"Keep the reason under {REASON_MAX_LENGTH} characters.",
        },
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data, auto_id="%s", label_suffix="", **kwargs)

    def unvalidated(self) -> ChangeReasonForm:
        return ChangeReasonForm(initial=_as_initial(self))


class ReplacesForm(forms.Form):
    """The review that "Back to edit" came from: reviewing again replaces it."""

    replaces = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, auto_id=False, **kwargs)

    @property
    def draft_id(self) -> int | None:
        return self.cleaned_data.get("replaces") if self.is_valid() else None


class FieldPickerForm(forms.Form):
    """ "Add field to change": the bulk-editable fields not chosen yet, by group."""

    # The picker is sent with the rest of the form: no field of it is required.
    use_required_attribute = False

    add_field = forms.ChoiceField(
        label="Field to change",
        widget=forms.Select(attrs={"id": "add-field"}),
        error_messages={
            "required": "Choose a field to add from the list.",
            "invalid_choice": "Choose a field to add from the list.",
        },
    )

    def __init__(self, data=None, *, exclude=frozenset()):
        super().__init__(data, label_suffix="")
        self.fields["add_field"].choices = [("", "Choose a field…"), *field_choices(exclude)]


def field_choices(exclude=frozenset()) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group label, [(field name, label)]) of the bulk-editable fields not in `exclude`."""
    groups = []
    for group in Group:
        fields = [
            (f.name, f.label)
            for f in BULK_EDITABLE_FIELDS
            if f.group == group and f.name not in exclude
        ]
        if fields:
            groups.append((GROUP_LABELS[group], fields))
    return groups


class BulkChangeForm:
    """The rows, the reason and the picker of one "choose changes" page.

    `BulkChangeForm(request.POST)` judges what was posted ("Review changes");
    `.unvalidated()` shows it back as posted, for adding or removing a row."""

    def __init__(self, data=None):
        self.rows = [
            ChangeRowForm(data, lead_field=lead_field(name)) for name in _chosen_names(data)
        ]
        self.reason_form = ChangeReasonForm(data)
        self.replaces_form = ReplacesForm(data)
        self.form_error = ""

    @classmethod
    def from_changes(cls, changes: list[Change], reason: str, replaces=None) -> BulkChangeForm:
        """The form as it was posted for these changes and reason (Back to edit,
        Resume): every row, mode and value as the person left it."""
        data = QueryDict(mutable=True)
        for change in changes:
            data.update(_posted_change(change))
        data["reason"] = reason
        if replaces is not None:
            data["replaces"] = str(replaces)
        return cls(data).unvalidated()

    def unvalidated(self) -> BulkChangeForm:
        shown = BulkChangeForm()
        shown.rows = [row.unvalidated() for row in self.rows]
        shown.reason_form = self.reason_form.unvalidated()
        shown.replaces_form = ReplacesForm(initial=_as_initial(self.replaces_form))
        return shown

    @property
    def chosen(self) -> set[str]:
        return {row.name for row in self.rows}

    def add_field(self, name: str) -> ChangeRowForm | None:
        """Adds an empty row for `name`; None if it is there already, or (with a
        form error) if it is not a field to pick."""
        if name in self.chosen:
            return None
        picker = FieldPickerForm({"add_field": name}, exclude=self.chosen)
        if not picker.is_valid():
            self.form_error = " ".join(picker.errors["add_field"])
            return None
        row = ChangeRowForm(lead_field=lead_field(name))
        self.rows.append(row)
        return row

    def remove_field(self, name: str) -> None:
        self.rows = [row for row in self.rows if row.name != name]

    def picker(self) -> FieldPickerForm:
        return FieldPickerForm(exclude=self.chosen)

    def is_valid(self) -> bool:
        judged = [row.is_valid() for row in self.rows]  # every row, for its messages
        rows_valid = all(judged)
        reason_valid = self.reason_form.is_valid()
        if not self.rows:
            self.form_error = "Add at least one field to change."
        return rows_valid and reason_valid and bool(self.rows)

    @property
    def changes(self) -> list[Change]:
        return [row.change for row in self.rows]

    @property
    def reason(self) -> str:
        return self.reason_form.cleaned_data["reason"]

    @property
    def replaces(self) -> int | None:
        return self.replaces_form.draft_id


def _chosen_names(data) -> list[str]:
    """The chosen fields in order; unknown or repeated names are dropped."""
    names: list[str] = []
    for name in data.getlist("fields") if data is not None else []:
        if name in BULK_EDITABLE_NAMES and name not in names:
            names.append(name)
    return names


def _posted_change(change: Change) -> QueryDict:
    """The POST data the form sends for `change` (see the names at the top)."""
    data = QueryDict(mutable=True)
    data["fields"] = change.field
    if change.mode == CLEAR:
        data["clear-" + change.field] = "1"
        return data
    if change.lead_field.type is FieldType.ENUM_LIST:
        data["mode-" + change.field] = change.mode
        data.setlist("value-" + change.field, list(change.value or []))
    else:
        data["value-" + change.field] = _value_as_typed(change.lead_field, change.value)
    return data


def _value_as_typed(field, value) -> str:
    """A change's value as its control shows it: ids with commas, yes/no as the
    select's values. (No date-time field is bulk editable.)"""
    if field.type is FieldType.RELATION_LIST:
        return ", ".join(str(item) for item in value or [])
    if field.type is FieldType.BOOLEAN:
        return "true" if value else "false"
    return "" if value is None else str(value)


def _as_initial(form: forms.Form) -> dict:
    """What a bound form holds, as initial values for an unbound one (fields not
    posted keep their own initial)."""
    return {name: form[name].data for name in form.fields if form[name].data is not None}


def change_form_for(request) -> tuple[BulkChangeForm, bool]:
    """The change form as this request leaves it, and whether it was submitted for
    review: blank (GET); with a field removed or added (shown back without
    errors); or submitted (the caller validates it)."""
    if request.method == "GET":
        return BulkChangeForm(), False
    if "remove_field" in request.POST:
        form = BulkChangeForm(request.POST).unvalidated()
        form.remove_field(request.POST["remove_field"])
        return form, False
    if request.POST.get("action") == "add_field":
        form = BulkChangeForm(request.POST).unvalidated()
        form.add_field(request.POST.get("add_field", ""))
        return form, False
    return BulkChangeForm(request.POST), True
