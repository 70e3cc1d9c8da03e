from django import forms

from leadsadmin.leads.widgets import value_form_field, widget_kind
from leadsadmin.schema import FIELDS, lead_field


def test_every_field_type_has_a_control_for_one_value_and_for_several():
    for field in FIELDS:
        assert widget_kind(field) in {"text", "number", "yesno", "datetime", "select", "id", "ids"}
        assert widget_kind(field, several=True) in {"checkboxes", "ids", "text"}


def test_enum_lists_take_several_options_as_checkboxes_and_one_as_a_select():
    field = value_form_field(lead_field("exterior"), several=True)
    assert isinstance(field.widget, forms.CheckboxSelectMultiple)
    assert ("Red", "Red") in field.choices
    assert isinstance(value_form_field(lead_field("exterior")).widget, forms.Select)


def test_numbers_keep_what_was_typed_for_the_validator_to_judge():
    field = value_form_field(lead_field("year"))
    assert field.widget.input_type == "number"
    assert field.clean(" 20x ") == " 20x "


def test_yes_no_and_datetime_controls():
    assert value_form_field(lead_field("manual")).choices == [
        ("", "Choose…"),
        ("true", "Yes"),
        ("false", "No"),
    ]
    assert value_form_field(lead_field("createdAt")).widget.input_type == "datetime-local"
