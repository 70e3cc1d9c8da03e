"""What the filter builder shows: rows of the tree and the controls of each condition.

Only the chosen field's operators and options are rendered, so the page stays
small however many rows there are (85 fields times their options would not).
"""

from __future__ import annotations

from dataclasses import dataclass

from leadsadmin.core.values import local_datetime
from leadsadmin.leads.filters import (
    EMPTY_OPERATORS,
    Condition,
    FilterTree,
    Group,
    condition_validate,
)
from leadsadmin.leads.resolution import MAX_RESOLVED_IDS
from leadsadmin.leads.widgets import widget_kind
from leadsadmin.schema import GROUP_LABELS, LIST_OPERATORS, FieldType, LeadField, fields_by_group

# (group label, [(field name, field label)]): the field picker's <optgroup>s and
# the type-to-search suggestions; only fields the filter offers operators for.
FIELD_CHOICES = [
    (GROUP_LABELS[group], [(f.name, f.label) for f in fields if f.filter_operators])
    for group, fields in fields_by_group()
]


# Operator names in plain words, the same words for every type, that still say what
# the API really does (payload-observed.md 9, 10); where the words alone cannot say
# how empty values or capitals count, or that a condition is answered by lead ids
# (leads.resolution, bounded), the hint under the operator says it.
_SCALAR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is any of",
    "not_in": "is none of",
    "empty": "is empty",
    "not_empty": "is not empty",
    "contains": "contains",
    "not_contains": "does not contain",
    "like": "contains all the words",
    "greater_than": "is more than",
    "greater_than_equal": "is at least",
    "less_than": "is less than",
    "less_than_equal": "is at most",
}
_DATE_LABELS = {
    "greater_than": "is after",
    "greater_than_equal": "is on or after",
    "less_than": "is before",
    "less_than_equal": "is on or before",
}
_LIST_LABELS = {
    "equals": "has",
    "in": "has any of",
    "all": "has all of",
    "not_equals": "has an item other than",
    "not_in": "has an item outside",
}
_BOUND = f"Works while at most {MAX_RESOLVED_IDS:,} leads"
_SCALAR_HINTS = {
    "not_equals": "Leads with no value match too.",
    "not_in": "Leads with no value are left out.",
    "contains": "Anywhere in the text, ignoring capitals.",
    "not_contains": (
        f"Anywhere in the text, ignoring capitals; leads with no value match too. "
        f"{_BOUND} contain it."
    ),
    "like": "Each word anywhere in the text, in any order, ignoring capitals.",
}
_LIST_HINTS = {
    "all": f"Every chosen item, in any order. {_BOUND} have them all.",
    "not_equals": "Leads with an empty list match too.",
    "not_in": "Leads with an empty list are left out.",
}


def operator_label(lead_field: LeadField, op: str) -> str:
    if lead_field.is_list and op in _LIST_LABELS:
        return _LIST_LABELS[op]
    if lead_field.type is FieldType.DATETIME and op in _DATE_LABELS:
        return _DATE_LABELS[op]
    return _SCALAR_LABELS[op]


def operator_hint(lead_field: LeadField, op: str) -> str:
    """What the operator's name leaves unsaid (empty values, capitals, a bound); "" if nothing."""
    return (_LIST_HINTS if lead_field.is_list else _SCALAR_HINTS).get(op, "")


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass
class ConditionControls:
    condition: Condition
    path: str
    unknown_field: str  # a field not in the picker (unknown, or not filterable), shown back
    operators: list[Option]
    value_kind: str  # "none" (no field yet), "empty" (no value needed), or a widget_kind
    value_options: list[Option]
    value_text: str
    value_hint: str
    operator_hint: str = ""

    @property
    def chosen_text(self) -> str:
        """The checked options in words: the scrolled or filtered list hides most."""
        chosen = [o.label for o in self.value_options if o.selected]
        return ", ".join(chosen) if chosen else "nothing chosen yet"

    @property
    def field_choices(self) -> list[tuple[str, list[tuple[str, str]]]]:
        return FIELD_CHOICES


@dataclass
class BuilderRow:
    kind: str  # "open", "condition", "close"
    path: str
    depth: int
    group: Group | None = None
    controls: ConditionControls | None = None
    first: bool = False  # no "or" separator before this group

    @property
    def combinator_label(self) -> str:
        return "All of" if self.group.combinator == "and" else "Any of"


def builder_rows(tree: FilterTree) -> list[BuilderRow]:
    """The tree flattened for a template: open group, conditions, close group."""
    shown = tree if tree.groups else FilterTree(groups=[Group(items=[Condition()])])
    rows: list[BuilderRow] = []

    def walk(group: Group, path: tuple[int, ...], first: bool):
        path_text = ".".join(map(str, path))
        rows.append(BuilderRow("open", path_text, group.depth, group=group, first=first))
        nested = 0
        for item in group.items:
            if isinstance(item, Group):
                walk(item, (*path, nested), True)
                nested += 1
            else:
                controls = condition_controls(item, path_text)
                rows.append(BuilderRow("condition", path_text, group.depth, controls=controls))
        rows.append(BuilderRow("close", path_text, group.depth, group=group))

    for number, group in enumerate(shown.groups):
        walk(group, (number,), number == 0)
    return rows


def condition_controls(condition: Condition, path: str) -> ConditionControls:
    lead_field = condition.lead_field
    controls = ConditionControls(
        condition=condition,
        path=path,
        unknown_field="",
        operators=[],
        value_kind="none",
        value_options=[],
        value_text="",
        value_hint="",
    )
    if lead_field is None or not lead_field.filter_operators:
        # Not in the field picker: shown back as chosen, beside its error.
        controls.unknown_field = condition.field
        return controls
    op = condition.op or lead_field.filter_operators[0]
    controls.operators = _operator_options(lead_field, op)
    if op in lead_field.filter_operators:
        controls.operator_hint = operator_hint(lead_field, op)
    _fill_value_control(controls, lead_field, op)
    return controls


def _operator_options(lead_field: LeadField, op: str) -> list[Option]:
    options = [
        Option(name, operator_label(lead_field, name), name == op)
        for name in lead_field.filter_operators
    ]
    if op not in lead_field.filter_operators:
        options.append(Option(op, f"{op} (not allowed here)", True))
    return options


def _fill_value_control(controls: ConditionControls, lead_field: LeadField, op: str) -> None:
    """The field's control from ``widget_kind`` (the one shared with the bulk form),
    asked for several values under a list operator; "is empty" asks for none."""
    values = controls.condition.values
    if lead_field.type is FieldType.DATETIME and not controls.condition.error:
        values = [_typed_moment(value) for value in values]  # the URL's UTC, as typed
    several = op in LIST_OPERATORS
    if op in EMPTY_OPERATORS:
        controls.value_kind = "empty"
        return
    controls.value_kind = widget_kind(lead_field, several=several)
    if controls.value_kind == "yesno":
        chosen = values[0] if values else "true"
        controls.value_options = [
            Option("true", "yes", chosen == "true"),
            Option("false", "no", chosen == "false"),
        ]
    elif controls.value_kind in ("select", "checkboxes"):
        controls.value_options = _value_options(lead_field, values)
        if controls.value_kind == "select":
            controls.value_options.insert(0, Option("", "— choose —", not values))
    elif several:
        controls.value_text = ", ".join(values)
        controls.value_hint = "Several values: separate them with commas."
    else:
        controls.value_text = values[0] if values else ""
        if controls.condition.error and controls.value_kind == "number":
            controls.value_kind = "text"  # a number input would blank out what was typed


def _typed_moment(value: str) -> str:
    """A UTC ISO date-time as the user's `datetime-local` value (seconds only when
    there are some); text that is none is shown as it came."""
    local = local_datetime(value)
    if local is None:
        return value
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


def _value_options(lead_field: LeadField, values: list[str]) -> list[Option]:
    """The field's options, then chosen values that are none (shown back as such)."""
    options = [Option(option, option, option in values) for option in lead_field.options]
    options += [
        Option(value, f"{value} (not an option)", True)
        for value in values
        if value not in lead_field.options
    ]
    return options


def condition_refit(condition: Condition) -> Condition:
    """After the field or operator changed: keep the operator and values that still
    fit the field, reset the rest, and show no error for a row still being filled."""
    lead_field = condition.lead_field
    if lead_field is None or not lead_field.filter_operators:
        condition.op, condition.values = "", []
        if condition.search or lead_field is not None:
            condition_validate(condition)
        return condition
    if condition.op not in lead_field.filter_operators:
        condition.op = lead_field.filter_operators[0]
    if condition.op not in LIST_OPERATORS:
        condition.values = condition.values[:1]
    if condition.values:
        condition_validate(condition)
        if condition.error:
            condition.values = []
    condition.error = ""
    if condition.search:  # say why the typed text chose no field
        condition_validate(condition)
    return condition
