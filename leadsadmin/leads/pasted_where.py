"""A pasted Payload ``where`` (the Where JSON panel) read back into a filter tree.

The tree is validated like one from the query string, and its values are what the
builder's form would have typed (date-times in the user's zone). An AND of
``equals`` on one enum list (what the builder once sent for "has all of"), and
``{"field": {"all": [...]}}``, are both read as one "has all of" condition.
"""

from __future__ import annotations

import datetime as dt

from leadsadmin.core.values import local_datetime
from leadsadmin.leads.filters import (
    MAX_DEPTH,
    Condition,
    FilterTree,
    Group,
    tree_validate,
)
from leadsadmin.schema import FIELDS_BY_NAME, LIST_OPERATORS, FieldType


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
    return tree_validate(tree, tz)


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
        raise _Unreadable("null cannot be searched for; use “is empty” (exists false).")
    if isinstance(value, bool):
        return "true" if value else "false"
    if lead_field is not None and lead_field.type is FieldType.DATETIME:
        local = local_datetime(str(value), tz)
        if local is None:
            return str(value)
        # What <input type=datetime-local> sends: seconds only when there are some.
        return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
