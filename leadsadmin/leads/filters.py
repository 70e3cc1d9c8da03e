"""The leads filter: query string → filter tree → Payload ``where``.

The public API (``__all__``), the only names other apps (bulk edits) import::

    tree = filter_from_querydict(request.GET)   # FilterTree, every condition validated
    tree.is_valid, tree.errors                  # problems shown at each condition
    filter_resolve(tree)                        # asks the API what needs asking (below)
    where = where_from_filter(tree)             # Payload's where; FilterInvalid if not valid
    querystring_from_filter(tree)               # the one canonical query string

The other names here (the tree's parts, one row's parsing, validation) serve the
leads app's own builder, which lives beside this module: ``builder`` (its
controls), ``builder_actions`` (its buttons) and ``pasted_where`` (a pasted where
back into a tree).

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
        op0=in    operator (missing: the field's default): Payload's name, or one
                  of the filter's own (schema.FILTER_OPERATORS_BY_TYPE); the older
                  ``op0=exists&v0=true`` is read as ``not_empty`` (``false``: ``empty``)
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
    "has all of" (two values or more) and "does not contain" have no where Payload
    answers rightly: ``filter_resolve`` asks the API, through ``api.get_client()``,
    for the ids of the leads concerned (``leads.resolution``, bounded) and the where
    sends ``id in`` / ``id not_in`` them. ``where_from_filter`` resolves what is not
    resolved yet, so preview, count, export and bulk edits take the same path; a
    condition past the bound, or one the API could not answer, gets an error.
    Two conditions on one multi-value select that are AND-ed are refused: the SQL
    adapter checks them against one and the same item (``tree_validate``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from urllib.parse import urlencode

from leadsadmin import api
from leadsadmin.api.errors import LeadsApiError
from leadsadmin.core.values import iso_utc, parse_datetime, parse_number
from leadsadmin.leads.resolution import TooManyToResolve, ids_containing, ids_with_all
from leadsadmin.schema import FIELDS_BY_NAME, LIST_OPERATORS, FieldType, LeadField

__all__ = [
    "FilterInvalid",
    "FilterTree",
    "filter_from_querydict",
    "filter_resolve",
    "querystring_from_filter",
    "where_from_filter",
]

MAX_DEPTH = 3
# Operators without a value: sent as `exists` false / true.
EMPTY_OPERATORS = {"empty": False, "not_empty": True}


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
    resolved: list[int] | None = None  # lead ids, once filter_resolve asked the API

    @property
    def needs_resolution(self) -> bool:
        """Whether the where must name lead ids (leads.resolution says why)."""
        return self.op == "not_contains" or (self.op == "all" and len(self.values) > 1)

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
# A group path: "1", "1.0", "1.0.2" (see the module docstring).
GROUP_PATH = re.compile(rf"^\d+(\.\d+){{0,{MAX_DEPTH - 1}}}$")


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
    offered = [f for f in FIELDS_BY_NAME.values() if f.filter_operators]
    for lead_field in offered:
        if wanted in (lead_field.name.casefold(), lead_field.label.casefold()):
            return [lead_field.name]
    return [f.name for f in offered if wanted in f.label.casefold() or wanted in f.name.casefold()]


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
        if not GROUP_PATH.match(path):
            tree.errors.append(
                f"Condition {row + 1} has a group path “{path}” that is not understood; "
                f"groups nest at most {MAX_DEPTH} levels deep."
            )
            continue
        group = _group_at(tree, groups, tuple(path.split(".")))
        group.items.append(condition_from_querydict(query, row))
    return tree_validate(tree, tz)


def tree_validate(tree: FilterTree, tz: dt.tzinfo | None = None) -> FilterTree:
    """Validates every condition, then what only the whole tree shows; numbers the rows."""
    for condition in tree.conditions():
        condition_validate(condition, tz)
    for group in _groups(tree.groups):
        if group.combinator == "and":
            _refuse_shared_list_items(group)
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
    if not lead_field.filter_operators:
        condition.error = f"Leads cannot be filtered by {lead_field.label}."
        return condition
    if condition.op == "exists":  # the older spelling of empty / not empty
        _exists_as_empty(condition)
        if condition.error:
            return condition
    if not condition.op:
        condition.op = lead_field.filter_operators[0]
    if condition.op not in lead_field.filter_operators:
        condition.error = (
            f"“{condition.op}” is not an operator for {lead_field.label}. Choose one from the list."
        )
        return condition
    try:
        value = condition_where_value(condition, tz)
    except ValueError as exc:
        condition.error = str(exc)
        return condition
    if condition.op in EMPTY_OPERATORS:
        condition.values = []  # what a value box sent before the operator changed
    elif lead_field.type is FieldType.DATETIME:
        # Date-times live in the URL as UTC ISO 8601: a shared link means the same
        # moment in every time zone (the builder shows it in the viewer's zone).
        condition.values = value if isinstance(value, list) else [value]
    return condition


def _exists_as_empty(condition: Condition) -> None:
    try:
        present = _yes_no(_one_value(condition.values, "Choose yes or no."))
    except ValueError as exc:
        condition.error = str(exc)
        return
    condition.op, condition.values = ("not_empty" if present else "empty"), []


def condition_where_value(condition: Condition, tz: dt.tzinfo | None = None):
    """The value to send for one valid condition; ValueError with a sentence if not."""
    lead_field, op, values = condition.lead_field, condition.op, condition.values
    if op in EMPTY_OPERATORS:
        return EMPTY_OPERATORS[op]
    if lead_field.type is FieldType.BOOLEAN:
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
        return parse_number(value)
    if lead_field.type is FieldType.DATETIME:
        return iso_utc(parse_datetime(value, tz))
    if lead_field.type in (FieldType.RELATION, FieldType.RELATION_LIST) and value.isdigit():
        return int(value)
    return value


# ---------------------------------------------------------------- resolution


def filter_resolve(tree: FilterTree, tz: dt.tzinfo | None = None, client=None) -> FilterTree:
    """Asks the API for the lead ids of each valid condition that needs them (once:
    ``condition.resolved``). Too many, or an API failure, becomes the condition's
    error, so the builder shows it where it belongs and no where is built."""
    for group, condition in _conditions_with_groups(tree):
        if condition.error or condition.resolved is not None or not condition.needs_resolution:
            continue
        client = client or api.get_client()
        narrowing = [_condition_where(c, tz) for c in _narrowing(group, condition)]
        try:
            condition.resolved = _resolved_ids(client, condition, narrowing, tz)
        except TooManyToResolve as exc:
            condition.error = str(exc)
        except LeadsApiError as exc:
            condition.error = f"The leads API could not be asked which leads this finds: {exc}"
    return tree


def _conditions_with_groups(tree: FilterTree):
    def walk(group: Group):
        for item in group.items:
            if isinstance(item, Group):
                yield from walk(item)
            else:
                yield group, item

    for group in tree.groups:
        yield from walk(group)


def _narrowing(group: Group, condition: Condition) -> list[Condition]:
    """The conditions AND-ed with `condition` that may go along when resolving it:
    valid, on another field (the SQL adapter would look at the same list item),
    and needing no resolution themselves."""
    if group.combinator != "and":
        return []
    return [
        item
        for item in group.items
        if isinstance(item, Condition)
        and item is not condition
        and not item.is_blank
        and not item.error
        and not item.needs_resolution
        and item.field != condition.field
    ]


def _resolved_ids(client, condition: Condition, narrowing: list[dict], tz) -> list[int]:
    value = condition_where_value(condition, tz)
    if condition.op == "all":
        return ids_with_all(client, condition.lead_field, value, narrowing)
    return ids_containing(client, condition.lead_field, value, narrowing)


def _groups(groups: list[Group]):
    for group in groups:
        yield group
        yield from _groups([item for item in group.items if isinstance(item, Group)])


def _refuse_shared_list_items(group: Group) -> None:
    """Payload's SQL adapter joins a multi-value select's items once per where, so
    conditions on one list that are AND-ed all look at the same item: "has A" and
    "has B" find the leads with an item that is both (none). Within an OR each
    condition may have its own item, and "is empty" or a condition resolved to ids
    is no item condition."""
    seen: dict[str, int] = {}
    for number, item in enumerate(group.items):
        for condition in _item_conditions(item):
            if seen.setdefault(condition.field, number) != number and not condition.error:
                condition.error = (
                    f"Another condition on {condition.lead_field.label} is AND-ed with this "
                    "one; the API would look for one item that meets both, so the count "
                    "would be wrong. Put the values in one condition (“has all of”)."
                )


def _item_conditions(item: Condition | Group) -> list[Condition]:
    conditions = [item] if isinstance(item, Condition) else _all_conditions(item)
    return [
        c
        for c in conditions
        if c.lead_field is not None
        and c.lead_field.type is FieldType.ENUM_LIST
        and c.op not in EMPTY_OPERATORS
        and not c.needs_resolution
    ]


def _all_conditions(group: Group) -> list[Condition]:
    return [c for _, c in _conditions_with_groups(FilterTree(groups=[group]))]


# ---------------------------------------------------------------- tree → where


def where_from_filter(tree: FilterTree, tz: dt.tzinfo | None = None, client=None) -> dict:
    """Payload's where for a valid tree, resolved (``filter_resolve``) where needed;
    FilterInvalid if anything has an error."""
    if tree.is_valid:
        filter_resolve(tree, tz, client)
    if not tree.is_valid:
        problems = tree.errors + [
            f"condition {c.index + 1}: {c.error}" for c in tree.conditions() if c.error
        ]
        raise FilterInvalid("The filter has errors: " + " ".join(problems))
    groups = [g for g in (_group_where(group, tz) for group in tree.groups) if g]
    return {"or": groups} if groups else {}


def where_and(where: dict, bounds: list[dict]) -> dict:
    """`where` AND the bounds (conditions), without nesting it deeper: the API reads a where at
    most 10 brackets deep, and keyset paging adds a level of its own. The bounds
    join each OR group's AND list ((A or B) and R = (A and R) or (B and R))."""
    if not where:
        return {"and": bounds}
    if set(where) == {"or"} and isinstance(where["or"], list):
        return {"or": [where_and(group, bounds) for group in where["or"]]}
    if set(where) == {"and"} and isinstance(where["and"], list):
        return {"and": [*where["and"], *bounds]}
    return {"and": [where, *bounds]}


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
    if condition.needs_resolution:
        return _resolved_where(condition)
    value = condition_where_value(condition, tz)
    if condition.op in EMPTY_OPERATORS:
        return {condition.field: {"exists": value}}
    if condition.op == "all":  # one value: the list has it
        return {condition.field: {"equals": value[0]}}
    return {condition.field: {condition.op: value}}


def _resolved_where(condition: Condition) -> dict:
    if condition.op == "all":
        return {"id": {"in": condition.resolved}}
    if not condition.resolved:  # no lead contains it: every lead does not
        return {"id": {"exists": True}}
    return {"id": {"not_in": condition.resolved}}
