"""The leads filter: query string ⇄ filter tree ⇄ Payload ``where``. Pure, no HTTP.

The tree
    A filter is an OR of groups. A group holds conditions and nested groups; the
    combinator alternates with depth: a top-level group (depth 1) ANDs its items, a
    nested group (depth 2) ORs them, a group nested in that (depth 3) ANDs them again.
    Deeper is refused. A condition is (field, operator, values) with the values
    exactly as typed, so invalid input is shown back unchanged with its message.

The URL (the product's shareable link; bulk edits reuse it)
    One flat set of keys per condition, numbered in reading order, exactly what
    the builder's plain GET form submits with JavaScript off::

        c0=1      the condition's group path: "1" = top-level group 1,
                  "1.0" = nested group 0 in it, "1.0.2" = nested group 2 in that
                  (missing: group 0, so ``?f0=reason&v0=Test`` is a whole filter)
        f0=reason field name (missing or empty: a row not filled in yet)
        op0=in    operator (Payload's name; missing: the field's default)
        v0=Test   value, repeated for several (``v0=Test&v0=Lost``)

    Example, (reason is Test AND year > 2020) OR (exterior has Red)::

        c0=0&f0=reason&op0=equals&v0=Test&c1=0&f1=year&op1=greater_than&v1=2020
        &c2=1&f2=exterior&op2=equals&v2=Red

    Numbers in the keys and group paths only identify things; order is the order
    of appearance. ``querystring_from_filter`` renumbers both, so every tree has
    one canonical query string. Keys that are not filter keys (sort, page, …) are
    ignored here.

Values
    Multi-value operators on a field without options (text, number, date, relation
    ``in``/``not_in``) take one comma-separated input; ``v`` may also repeat.
    Date-times are typed in the user's time zone (``YYYY-MM-DDTHH:MM``, what
    ``<input type=datetime-local>`` sends) and sent to the API as ISO UTC.

The where
    ``where_from_filter`` returns Payload's shape ``{"or": [{"and": [...]}, ...]}``
    (``{}`` for an empty filter: every lead). It raises ``FilterInvalid`` when any
    condition has an error, so an invalid filter can never widen into "all leads".
    ``all`` on enum lists is written portably as an AND of ``equals`` (the SQL
    adapter answers ``all`` with a 500); ``filter_from_where`` reads that shape, and
    ``{"field": {"all": [...]}}``, back as one "has all of" condition.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from urllib.parse import urlencode

from leadsadmin.core.values import iso_utc, local_datetime, parse_datetime, parse_number
from leadsadmin.schema import FIELDS_BY_NAME, LIST_OPERATORS, FieldType, LeadField

MAX_DEPTH = 3

# Operator names that say what the API really does (payload-observed.md 9, 10).
_SCALAR_LABELS = {
    "equals": "is",
    "not_equals": "is not (includes empty)",
    "in": "is any of",
    "not_in": "is none of (excludes empty)",
    "exists": "is set",
}
_TEXT_LABELS = {
    "like": "contains all words",
    "contains": "contains text",
    "not_like": "is not (ignoring case)",
}
_NUMBER_LABELS = {
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
    "not_equals": "has an item other than, or is empty",
    "in": "has any of",
    "not_in": "has an item outside",
    "all": "has all of",
    "exists": "is set",
}


def operator_label(lead_field: LeadField, op: str) -> str:
    if lead_field.is_list:
        return _LIST_LABELS[op]
    if lead_field.type is FieldType.DATETIME:
        return _DATE_LABELS.get(op) or _SCALAR_LABELS[op]
    return {**_SCALAR_LABELS, **_TEXT_LABELS, **_NUMBER_LABELS}[op]


class FilterInvalid(ValueError):
    """The filter has errors; no where can be built from it."""


@dataclass
class Condition:
    field: str = ""
    op: str = ""
    values: list[str] = dataclass_field(default_factory=list)
    error: str = ""
    search: str = ""  # type-to-search text that did not name one field
    focused: bool = False  # the builder puts the keyboard here: a row just added, or
    # the one that took the place of a removed row (the clicked button is gone)
    index: int = 0  # position in reading order, set by number_rows()

    @property
    def lead_field(self) -> LeadField | None:
        return FIELDS_BY_NAME.get(self.field)

    @property
    def is_blank(self) -> bool:
        return not self.field


@dataclass
class Group:
    depth: int = 1
    items: list[Condition | Group] = dataclass_field(default_factory=list)

    @property
    def combinator(self) -> str:
        return "and" if self.depth % 2 else "or"

    @property
    def can_nest(self) -> bool:
        return self.depth < MAX_DEPTH


@dataclass
class FilterTree:
    groups: list[Group] = dataclass_field(default_factory=list)
    errors: list[str] = dataclass_field(default_factory=list)  # problems not tied to one condition

    def conditions(self) -> list[Condition]:
        return [c for _, c in walk_conditions(self)]

    @property
    def is_valid(self) -> bool:
        return not self.errors and not any(c.error for c in self.conditions())

    @property
    def is_empty(self) -> bool:
        return all(c.is_blank for c in self.conditions())


def walk_conditions(tree: FilterTree):
    """(group path, condition) in reading order; the path is a tuple of indexes."""

    def walk(group: Group, path: tuple[int, ...]):
        nested = 0
        for item in group.items:
            if isinstance(item, Group):
                yield from walk(item, (*path, nested))
                nested += 1
            else:
                yield path, item

    for number, group in enumerate(tree.groups):
        yield from walk(group, (number,))


def number_rows(tree: FilterTree) -> FilterTree:
    for index, (_, condition) in enumerate(walk_conditions(tree)):
        condition.index = index
    return tree


# ---------------------------------------------------------------- query string


_ROW_KEY = re.compile(r"^[cf](\d+)$")
_PATH = re.compile(rf"^\d+(\.\d+){{0,{MAX_DEPTH - 1}}}$")


def condition_from_querydict(query, row: int) -> Condition:
    """The condition of row `row` alone (for the builder's row fragment).

    ``find<row>`` is the row's type-to-search box: when filled in, it chooses the
    field (see ``field_searched``) instead of ``f<row>``."""
    values = [v.strip() for v in query.getlist(f"v{row}")]
    condition = Condition(
        field=query.get(f"f{row}", "").strip(),
        op=query.get(f"op{row}", "").strip(),
        values=[v for v in values if v],
        index=row,
    )
    if searched := query.get(f"find{row}", "").strip():
        found = fields_searched(searched)
        if len(found) == 1:
            condition.field = found[0]
        else:
            condition.search = searched  # shown back with a message
    return condition


def fields_searched(text: str) -> list[str]:
    """The fields a person may mean by what they typed into the search box: the
    one whose name or label it is (any case), else every field whose label or
    name contains it."""
    wanted = text.casefold()
    for lead_field in FIELDS_BY_NAME.values():
        if wanted in (lead_field.name.casefold(), lead_field.label.casefold()):
            return [lead_field.name]
    return [
        f.name
        for f in FIELDS_BY_NAME.values()
        if wanted in f.label.casefold() or wanted in f.name.casefold()
    ]


def _search_problem(text: str) -> str:
    labels = [FIELDS_BY_NAME[name].label for name in fields_searched(text)]
    if not labels:
        return f"No field matches “{text}”. Choose a field from the list."
    shown = ", ".join(labels[:5]) + (", …" if len(labels) > 5 else "")
    return f"“{text}” matches {len(labels)} fields ({shown}). Type more, or choose from the list."


def filter_keys_present(query) -> bool:
    return any(_ROW_KEY.match(key) for key in query)


def filter_from_querydict(query, tz: dt.tzinfo | None = None) -> FilterTree:
    """The tree the query string describes, every condition validated."""
    tree = FilterTree()
    groups: dict[tuple[str, ...], Group] = {}
    rows = sorted({int(m.group(1)) for key in query if (m := _ROW_KEY.match(key))})
    for row in rows:
        path = query.get(f"c{row}", "0").strip()
        if not _PATH.match(path):
            tree.errors.append(
                f"Condition {row + 1} has a group path “{path}” that is not understood; "
                f"groups nest at most {MAX_DEPTH} levels deep."
            )
            continue
        group = _group_at(tree, groups, tuple(path.split(".")))
        group.items.append(condition_from_querydict(query, row))
    for condition in tree.conditions():
        condition_validate(condition, tz)
    return number_rows(tree)


def _group_at(tree, groups, path):
    if path in groups:
        return groups[path]
    if len(path) == 1:
        group = Group(depth=1)
        tree.groups.append(group)
    else:
        parent = _group_at(tree, groups, path[:-1])
        group = Group(depth=len(path))
        parent.items.append(group)
    groups[path] = group
    return group


def querystring_from_filter(tree: FilterTree) -> str:
    """The canonical query string of the tree (see the module docstring)."""
    pairs = []
    for index, (path, condition) in enumerate(walk_conditions(tree)):
        pairs.append((f"c{index}", ".".join(map(str, path))))
        if condition.field:
            pairs.append((f"f{index}", condition.field))
            if condition.op:
                pairs.append((f"op{index}", condition.op))
            pairs.extend((f"v{index}", value) for value in condition.values)
    return urlencode(pairs, safe=":")


# ---------------------------------------------------------------- validation


def condition_validate(condition: Condition, tz: dt.tzinfo | None = None) -> Condition:
    """Fills in the default operator and sets `condition.error` ("" when fine)."""
    condition.error = ""
    if condition.search:
        condition.error = _search_problem(condition.search)
        return condition
    if condition.is_blank:
        return condition
    lead_field = condition.lead_field
    if lead_field is None:
        condition.error = f"There is no field “{condition.field}”. Choose a field from the list."
        return condition
    if not condition.op:
        condition.op = lead_field.operators[0]
    if condition.op not in lead_field.operators:
        condition.error = (
            f"“{condition.op}” is not an operator for {lead_field.label}. Choose one from the list."
        )
        return condition
    try:
        condition_where_value(condition, tz)
    except ValueError as exc:
        condition.error = str(exc)
    return condition


def condition_where_value(condition: Condition, tz: dt.tzinfo | None = None):
    """The value to send for one valid condition; ValueError with a sentence if not."""
    lead_field, op, values = condition.lead_field, condition.op, condition.values
    if op == "exists" or lead_field.type is FieldType.BOOLEAN:
        return _yes_no(_one_value(values, "Choose yes or no."))
    if lead_field.options:
        return _options_value(lead_field, op, values)
    if op in LIST_OPERATORS:
        parts = [p.strip() for v in values for p in v.split(",") if p.strip()]
        if not parts:
            raise ValueError("Enter at least one value (several: separate them with commas).")
        return [_scalar(lead_field, part, tz) for part in parts]
    return _scalar(lead_field, _one_value(values, "Enter a value."), tz)


def _one_value(values, missing):
    if not values:
        raise ValueError(missing)
    if len(values) > 1:
        raise ValueError("This operator takes one value; choose just one.")
    return values[0]


def _yes_no(value):
    if value.lower() in ("true", "yes"):
        return True
    if value.lower() in ("false", "no"):
        return False
    raise ValueError(f"“{value}” is not yes or no.")


def _options_value(lead_field, op, values):
    outside = [v for v in values if v not in lead_field.options]
    if outside:
        names = ", ".join(f"“{v}”" for v in outside)
        raise ValueError(f"{names} is not an option of {lead_field.label}.")
    if op in LIST_OPERATORS:
        if not values:
            raise ValueError("Choose at least one value.")
        return list(values)
    return _one_value(values, "Choose a value.")


def _scalar(lead_field, value, tz):
    if lead_field.type is FieldType.NUMBER:
        return _number(value)
    if lead_field.type is FieldType.DATETIME:
        return iso_utc(parse_datetime(value, tz))
    if lead_field.type in (FieldType.RELATION, FieldType.RELATION_LIST) and value.isdigit():
        return int(value)
    return value


def _number(value):
    try:
        return parse_number(value)
    except ValueError:  # said the same way for text, NaN and infinities
        raise ValueError(f"“{value}” is not a number.") from None


def local_input_value(iso: str, tz: dt.tzinfo | None = None) -> str:
    """An ISO date-time as the user's ``datetime-local`` value (to show it back);
    ValueError when it is no date-time."""
    local = local_datetime(iso, tz)
    if local is None:
        raise ValueError(f"“{iso}” is not a date and time.")
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------- tree → where


def where_from_filter(tree: FilterTree, tz: dt.tzinfo | None = None) -> dict:
    """Payload's where for a valid tree; FilterInvalid if anything has an error."""
    if not tree.is_valid:
        problems = tree.errors + [
            f"condition {c.index + 1}: {c.error}" for c in tree.conditions() if c.error
        ]
        raise FilterInvalid("The filter has errors: " + " ".join(problems))
    groups = [g for g in (_group_where(group, tz) for group in tree.groups) if g]
    return {"or": groups} if groups else {}


def _group_where(group: Group, tz) -> dict | None:
    parts = []
    for item in group.items:
        part = _group_where(item, tz) if isinstance(item, Group) else _condition_where(item, tz)
        if part:
            parts.append(part)
    return {group.combinator: parts} if parts else None


def _condition_where(condition: Condition, tz) -> dict | None:
    if condition.is_blank:
        return None
    value = condition_where_value(condition, tz)
    if condition.op == "all":
        equals = [{condition.field: {"equals": v}} for v in value]
        return equals[0] if len(equals) == 1 else {"and": equals}
    return {condition.field: {condition.op: value}}


# ---------------------------------------------------------------- where → tree


class _Unreadable(ValueError):
    pass


def filter_from_where(where, tz: dt.tzinfo | None = None) -> FilterTree:
    """A tree from a pasted Payload where, validated like the query string.

    Structures the builder cannot show (not an object, and/or not holding a list,
    nesting deeper than three groups, an operator value that is not a value) give
    one message in ``tree.errors``; field and operator problems stay at their
    condition.
    """
    tree = FilterTree()
    try:
        if not isinstance(where, dict):
            raise _Unreadable('The where must be a JSON object, such as {"or": [...]}.')
        keys = [k.lower() for k in where]
        if keys == ["or"]:
            for item in _list_of(where, "or"):
                tree.groups.append(_and_group(item, depth=1, tz=tz))
        elif where:
            tree.groups.append(_and_group(where, depth=1, tz=tz))
    except _Unreadable as exc:
        return FilterTree(errors=[str(exc)])
    for condition in tree.conditions():
        condition_validate(condition, tz)
    return number_rows(tree)


def _list_of(obj, key):
    value = next(v for k, v in obj.items() if k.lower() == key)
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise _Unreadable(f"“{key}” must hold a list of where objects.")
    return value


def _check_depth(depth):
    if depth > MAX_DEPTH:
        raise _Unreadable(f"The where nests groups deeper than {MAX_DEPTH} levels.")


def _and_group(obj: dict, depth: int, tz) -> Group:
    _check_depth(depth)
    group = Group(depth=depth)
    group.items = _and_items(obj, depth, tz)
    return group


def _and_items(obj: dict, depth: int, tz) -> list:
    """Items of an AND at `depth`; nested ANDs flatten into it."""
    if not isinstance(obj, dict):
        raise _Unreadable("Each item of and/or must be a where object.")
    items = []
    for key, value in obj.items():
        if key.lower() == "and":
            for sub in _list_of(obj, "and"):
                items.extend(_all_condition(sub, tz) or _and_items(sub, depth, tz))
        elif key.lower() == "or":
            items.extend(_or_items_as_and_member(_list_of(obj, "or"), depth, tz))
        else:
            items.extend(_field_conditions(key, value, tz))
    return items


def _or_items_as_and_member(subs, depth, tz):
    group = _or_group(subs, depth + 1, tz)
    if len(group.items) == 1:
        item = group.items[0]
        return item.items if isinstance(item, Group) else [item]
    return [group]


def _or_group(subs: list, depth: int, tz) -> Group:
    _check_depth(depth)
    group = Group(depth=depth)
    for sub in subs:
        found = _all_condition(sub, tz)
        if found:
            group.items.extend(found)
            continue
        keys = [k.lower() for k in sub]
        if keys == ["or"]:  # an OR inside an OR is the same OR
            group.items.extend(_or_group(_list_of(sub, "or"), depth, tz).items)
            continue
        items = _and_items(sub, depth + 1, tz)
        if len(items) == 1 and isinstance(items[0], Group):  # an OR: same combinator
            group.items.extend(items[0].items)
        elif len(items) == 1:
            group.items.append(items[0])
        elif items:
            _check_depth(depth + 1)
            group.items.append(Group(depth=depth + 1, items=items))
    return group


def _all_condition(obj, tz) -> list[Condition]:
    """``{"and": [{f: {equals: a}}, {f: {equals: b}}]}`` on one enum list → [has all of]."""
    if not isinstance(obj, dict) or [k.lower() for k in obj] != ["and"]:
        return []
    subs = next(iter(obj.values()))
    if not isinstance(subs, list) or len(subs) < 2:
        return []
    names = set()
    values = []
    for sub in subs:
        if not (isinstance(sub, dict) and len(sub) == 1):
            return []
        ((name, ops),) = sub.items()
        if not (isinstance(ops, dict) and list(ops) == ["equals"]):
            return []
        names.add(name)
        values.append(ops["equals"])
    lead_field = FIELDS_BY_NAME.get(next(iter(names)))
    if len(names) != 1 or lead_field is None or lead_field.type is not FieldType.ENUM_LIST:
        return []
    raws = [_raw(v, lead_field, tz) for v in values]
    return [Condition(field=lead_field.name, op="all", values=raws)]


def _field_conditions(name: str, ops, tz) -> list[Condition]:
    if not isinstance(ops, dict) or not ops:
        raise _Unreadable(
            f'“{name}” must map operators to values, such as {{"{name}": {{"equals": …}}}}.'
        )
    lead_field = FIELDS_BY_NAME.get(name)
    conditions = []
    for op, value in ops.items():
        if isinstance(value, dict):
            raise _Unreadable(f"The value of {name} {op} must be a value or a list, not an object.")
        if isinstance(value, list):
            raws = [_raw(v, lead_field, tz) for v in value]
        elif op in LIST_OPERATORS and isinstance(value, str):
            raws = [part for part in value.split(",") if part]  # Payload's comma form
        else:
            raws = [_raw(value, lead_field, tz)]
        conditions.append(Condition(field=name, op=op, values=raws))
    return conditions


def _raw(value, lead_field, tz) -> str:
    """A where value as the builder's form would have typed it."""
    if isinstance(value, dict | list):
        raise _Unreadable("A list may only hold plain values.")
    if value is None:
        raise _Unreadable("null cannot be searched for; use “is set: no” (exists false).")
    if isinstance(value, bool):
        return "true" if value else "false"
    if lead_field is not None and lead_field.type is FieldType.DATETIME:
        try:
            return local_input_value(str(value), tz)
        except ValueError:
            return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- builder actions


def filter_apply_action(tree: FilterTree, action: str) -> FilterTree:
    """Applies one builder button (``do=<verb>:<target>``) to the tree.

    ``add-condition:<path>`` appends an empty condition to the group at path;
    ``add-group:`` appends a top-level group holding one empty condition;
    ``add-group:<path>`` nests a group (opposite combinator) in the group at path;
    ``remove:<row>`` removes condition `row`, and the groups it leaves empty;
    ``clear`` empties the filter. Unknown actions change nothing.
    """
    verb, _, target = action.partition(":")
    if verb == "clear":
        return FilterTree()
    if verb == "remove" and target.isdigit():
        _remove_row(tree, int(target))
        if rest := number_rows(tree).conditions():
            rest[min(int(target), len(rest) - 1)].focused = True
    elif verb == "add-group" and not target:
        tree.groups.append(Group(depth=1, items=[Condition(focused=True)]))
    elif verb in ("add-group", "add-condition"):
        group = _group_by_path(tree, target)
        if group is not None and verb == "add-condition":
            group.items.append(Condition(focused=True))
        elif group is not None and group.can_nest:
            group.items.append(Group(depth=group.depth + 1, items=[Condition(focused=True)]))
    return number_rows(tree)


def filter_action_changes_where(action: str) -> bool:
    """Whether a builder button can change what the filter matches. Adding rows
    adds blank conditions, which send nothing; removing and clearing do change it,
    so the preview must follow."""
    return action == "clear" or action.startswith("remove:")


def _group_by_path(tree, path: str) -> Group | None:
    if not _PATH.match(path):
        return None
    numbers = [int(n) for n in path.split(".")]
    if numbers[0] >= len(tree.groups):
        return None
    group = tree.groups[numbers[0]]
    for number in numbers[1:]:
        nested = [item for item in group.items if isinstance(item, Group)]
        if number >= len(nested):
            return None
        group = nested[number]
    return group


def _remove_row(tree, row: int):
    def prune(group: Group) -> bool:
        kept = []
        for item in group.items:
            if isinstance(item, Group):
                if prune(item):
                    kept.append(item)
            elif item.index != row:
                kept.append(item)
        group.items = kept
        return bool(kept)

    number_rows(tree)
    tree.groups = [group for group in tree.groups if prune(group)]
