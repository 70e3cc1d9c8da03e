"""One mapping from a Lead field's type to the form control that takes its value.

The filter builder's value box and the bulk change form both build their
controls here, so a number is a number input and an enum a select everywhere.
Values stay text in the form: the schema-aware validators (the filter's
`condition_validate`, the bulk form's `change_validate`) parse them, so that a
value typed wrong is shown back as typed, with a message.
"""

from __future__ import annotations

from django import forms

from leadsadmin.schema import FieldType, LeadField

YES_NO = [("true", "Yes"), ("false", "No")]

# The control of each field type for one value; `several=True` asks for the
# control that takes a list of values (enum options as checkboxes, else text).
WIDGET_KIND = {
    FieldType.TEXT: "text",
    FieldType.NUMBER: "number",
    FieldType.BOOLEAN: "yesno",
    FieldType.DATETIME: "datetime",
    FieldType.ENUM: "select",
    FieldType.ENUM_LIST: "checkboxes",
    FieldType.RELATION: "id",
    FieldType.RELATION_LIST: "ids",
}


def widget_kind(lead_field: LeadField, *, several: bool = False) -> str:
    """The control's kind: text, number, yesno, datetime, select, checkboxes, id, ids."""
    if several:
        return "checkboxes" if lead_field.options else "ids" if lead_field.is_list else "text"
    if lead_field.type is FieldType.ENUM_LIST:
        return "select"  # one item of the list, as in "has the item"
    return WIDGET_KIND[lead_field.type]


def value_form_field(
    lead_field: LeadField, *, several: bool = False, label: str = ""
) -> forms.Field:
    """A Django form field for `lead_field`'s value, not required (the caller's
    validator says what is missing, in words that name the field)."""
    kind = widget_kind(lead_field, several=several)
    label = label or lead_field.label
    choices = [(option, option) for option in lead_field.options]
    if kind == "checkboxes":
        return forms.MultipleChoiceField(
            label=label, required=False, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    if kind in ("select", "yesno"):
        options = choices if kind == "select" else YES_NO
        return forms.ChoiceField(label=label, required=False, choices=[("", "Choose…"), *options])
    widgets = {
        "number": forms.NumberInput(attrs={"step": "any"}),
        "datetime": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        "id": forms.NumberInput(attrs={"min": "1", "step": "1"}),
        "ids": forms.TextInput(attrs={"inputmode": "numeric"}),
        "text": forms.TextInput,
    }
    return forms.CharField(label=label, required=False, strip=False, widget=widgets[kind])
