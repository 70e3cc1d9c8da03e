"""Payload's ``where`` JSON → the bracket query string Payload's qs-esm parser reads.

``compile_where(where)`` checks a where against the Lead schema, reduces it, and
returns the ``(key, value)`` pairs to send plus a value-free summary for logs.
``encode_query(pairs)`` percent-encodes pairs into one query string.

Choices (see ``payload-contract.md`` sections 1 and 2):

- Bracket notation only, never a JSON-string ``where``: servers before 3.83 ignore
  it, which would turn a bulk PATCH into an update of every lead.
- Lists always go as indexed arrays (``[in][0]=a&[in][1]=b``), never comma
  strings, so values may contain commas. Keys and values are percent-encoded
  (``+`` → ``%2B``, brackets, ``&``, ``=``, ``#``, ``%``, unicode as UTF-8).
- Booleans go as ``true``/``false``; aware datetimes as UTC ISO with milliseconds
  (``2024-01-01T00:01:00.000Z``, the format Payload stores and compares).
- ``None`` is refused: the query string has no null (``=null`` is the text
  "null"). ``equals: None`` → use ``exists: False``; ``not_equals: None`` →
  ``exists: True``. The error says so.
- An empty ``in`` list matches nothing. It is never sent (the real API answers a
  500 to ``where[id][in]=``): the where is reduced instead, and a where that can
  match nothing is reported by ``CompiledWhere.matches_nothing`` so the client
  answers locally (empty page, count 0, nothing updated). An empty ``not_in`` or
  ``all`` is refused: it would silently match (almost) everything.
- ``{}`` (or an ``or`` branch that is ``{}``) matches everything, as in Payload.
- Limits: at most 10 bracket segments after ``where`` (qs depth), at most
  ``MAX_WHERE_PARAMETERS`` pairs and ``MAX_LIST_VALUES`` values per list, far below
  the parser's 1,000 (beyond which it silently drops or reshapes parameters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from leadsadmin.api.errors import WhereInvalid
from leadsadmin.core.values import iso_utc
from leadsadmin.schema import FIELDS_BY_NAME, LIST_OPERATORS, FieldType

MAX_DEPTH = 10  # qs-esm depth: bracket segments after `where`
MAX_WHERE_PARAMETERS = 500  # qs-esm parameterLimit is 1000 for the whole query string
MAX_LIST_VALUES = 500  # qs-esm arrayLimit is 1000
LOGICAL_KEYS = ("and", "or")


@dataclass(slots=True, frozen=True)
class CompiledWhere:
    """A checked where: ``params`` to send, ``tree`` as the server will parse it
    (every leaf a string), and a ``summary`` of fields and operators (no values)."""

    params: tuple[tuple[str, str], ...]
    tree: dict
    summary: str
    matches_nothing: bool = False


def compile_where(where: dict | None, *, root: str = "where") -> CompiledWhere:
    """Check ``where`` against the schema and turn it into query-string pairs.

    Raises WhereInvalid listing every problem; nothing is sent for a bad where.
    """
    if where is None:
        where = {}
    problems: list[str] = []
    if not isinstance(where, dict):
        raise WhereInvalid([f"a where must be a mapping, not {type(where).__name__}"])
    _check_node(where, "where", problems)
    if problems:
        raise WhereInvalid(problems)
    tree = _reduce(where)
    if tree is _NOTHING:
        return CompiledWhere(params=(), tree={}, summary="nothing", matches_nothing=True)
    params: list[tuple[str, str]] = []
    _flatten(tree, [root], params)
    if any(key.count("[") > MAX_DEPTH for key, _ in params):
        tree, params = _compact(tree), []
        _flatten(tree, [root], params)
    too_deep = [key for key, _ in params if key.count("[") > MAX_DEPTH]
    if too_deep:
        problems.append(
            f"the filter is nested too deeply ({max(k.count('[') for k, _ in params)} "
            f"levels; the API reads at most {MAX_DEPTH})"
        )
    if len(params) > MAX_WHERE_PARAMETERS:
        problems.append(
            f"the filter has {len(params)} conditions and values; at most "
            f"{MAX_WHERE_PARAMETERS} can be sent at once"
        )
    if problems:
        raise WhereInvalid(problems)
    return CompiledWhere(params=tuple(params), tree=tree, summary=where_summary(tree))


def encode_query(pairs) -> str:
    """Percent-encode ``(key, value)`` pairs: everything but ``A-Z a-z 0-9 - . _ ~``."""
    return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in pairs)


def where_summary(where: dict | None) -> str:
    """Fields and operators of a where, never its values (values may be personal
    data): ``or(and(reason.equals, year.greater_than))``."""
    if not where:
        return "all"
    parts = []
    for key, value in where.items():
        if key.lower() in LOGICAL_KEYS and isinstance(value, list):
            inner = ", ".join(where_summary(child) for child in value)
            parts.append(f"{key.lower()}({inner})")
        elif isinstance(value, dict):
            parts.extend(f"{key}.{operator}" for operator in value)
        else:
            parts.append(str(key))
    return ", ".join(parts)


# --- checking -------------------------------------------------------------------


def _check_node(node, at: str, problems: list[str]) -> None:
    if not isinstance(node, dict):
        problems.append(f"{at}: expected a mapping of fields, got {type(node).__name__}")
        return
    for key, value in node.items():
        if not isinstance(key, str):
            problems.append(f"{at}: field names must be text, got {key!r}")
            continue
        here = key if at == "where" else f"{at}.{key}"
        if key.lower() in LOGICAL_KEYS:
            if not isinstance(value, list | tuple):
                problems.append(f"{here}: '{key}' must hold a list of conditions")
                continue
            if len(value) > MAX_LIST_VALUES:
                problems.append(f"{here}: more than {MAX_LIST_VALUES} conditions")
            for index, child in enumerate(value):
                _check_node(child, f"{here}[{index}]", problems)
            continue
        field = FIELDS_BY_NAME.get(key)
        if field is None:
            problems.append(f"{here}: unknown field '{key}'")
            continue
        if not isinstance(value, dict):
            problems.append(
                f"{here}: give an operator and a value, e.g. {{'{key}': {{'equals': ...}}}}"
            )
            continue
        if not value:
            problems.append(f"{here}: no operator given")
        for operator, operand in value.items():
            if operator not in field.operators:
                problems.append(
                    f"{here}: operator '{operator}' does not apply to {field.type.value} "
                    f"fields (valid: {', '.join(field.operators)})"
                )
                continue
            _check_operand(field, operator, operand, f"{here}.{operator}", problems)


def _check_operand(field, operator: str, operand, at: str, problems: list[str]) -> None:
    if operator == "exists":
        if not isinstance(operand, bool):
            problems.append(f"{at}: exists takes true or false")
        return
    if operator in LIST_OPERATORS:
        if not isinstance(operand, list | tuple):
            problems.append(f"{at}: {operator} takes a list of values")
            return
        if not operand and operator != "in":
            meaning = "every lead" if operator == "not_in" else "an unclear set"
            problems.append(f"{at}: an empty {operator} list would match {meaning}; remove it")
        if len(operand) > MAX_LIST_VALUES:
            problems.append(
                f"{at}: {len(operand)} values; at most {MAX_LIST_VALUES} can be sent at once"
            )
        for index, item in enumerate(operand):
            _check_scalar(field, operator, item, f"{at}[{index}]", problems)
        return
    if isinstance(operand, list | tuple | dict):
        problems.append(f"{at}: {operator} takes a single value, not a list")
        return
    _check_scalar(field, operator, operand, at, problems)


def _check_scalar(field, operator: str, value, at: str, problems: list[str]) -> None:
    if value is None:
        if operator == "equals":
            problems.append(f"{at}: cannot send null; to find empty values use exists: false")
        elif operator == "not_equals":
            problems.append(f"{at}: cannot send null; to find non-empty values use exists: true")
        else:
            problems.append(f"{at}: cannot send null in a filter")
        return
    try:
        _value_text(value)
    except (TypeError, ValueError) as exc:
        problems.append(f"{at}: {exc}")
        return
    if field.type == FieldType.NUMBER and not _is_number(value):
        problems.append(f"{at}: {field.name} is a number field; the value is not a number")
    elif field.type == FieldType.BOOLEAN and not (
        isinstance(value, bool) or value in ("true", "false")
    ):
        problems.append(f"{at}: {field.name} takes true or false")


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    if isinstance(value, str):
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    return False


def _value_text(value) -> str:
    """The text a scalar is sent as; TypeError/ValueError with a readable reason."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be sent")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} cannot be sent")
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("date-times must carry a time zone")
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the text contains characters that cannot be sent") from None
        return value
    raise TypeError(f"cannot send a {type(value).__name__} value")


# --- reducing: drop what cannot match, never send an empty `in` ------------------

_NOTHING = object()  # a condition that matches no lead


def _reduce(node: dict):
    """The where with empty ``in`` lists resolved and values as text; _NOTHING when
    it cannot match any lead. ``{}`` means every lead."""
    result: dict = {}
    for key, value in node.items():
        logical = key.lower()
        if logical == "and":
            children = []
            for child in value:
                reduced = _reduce(child)
                if reduced is _NOTHING:
                    return _NOTHING
                if reduced:
                    children.append(reduced)
            if children:
                result.setdefault("and", []).extend(children)
        elif logical == "or":
            if not value:
                continue  # an empty or constrains nothing (as in Payload)
            children = []
            matches_all = False
            for child in value:
                reduced = _reduce(child)
                if reduced is _NOTHING:
                    continue
                if not reduced:
                    matches_all = True
                    break
                children.append(reduced)
            if matches_all:
                continue
            if not children:
                return _NOTHING
            if "or" in result:
                # Two `or` keys (e.g. "or" and "OR") are AND-ed: keep both, nested.
                result.setdefault("and", []).append({"or": children})
            else:
                result["or"] = children
        else:
            conditions = {}
            for operator, operand in value.items():
                if operator in LIST_OPERATORS:
                    if not operand:
                        return _NOTHING  # only `in` may be empty (checked above)
                    conditions[operator] = [_value_text(item) for item in operand]
                else:
                    conditions[operator] = _value_text(operand)
            result[key] = conditions
    return result


def _compact(node):
    """The same where with fewer levels: a lone group of one member is that member,
    and a group inside a group of the same kind joins it. Used only when the plain
    form is deeper than the API reads (each level costs two bracket segments)."""
    if isinstance(node, list):
        return [_compact(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key not in ("and", "or"):
            result[key] = value
            continue
        members = []
        for child in _compact(value):
            same_kind = isinstance(child, dict) and list(child) == [key]
            members.extend(child[key] if same_kind else [child])
        result[key] = members
    if len(result) == 1:
        ((key, value),) = result.items()
        if key in ("and", "or") and len(value) == 1:
            return value[0]
    return result


def _flatten(node, path: list[str], out: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, [*path, key], out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _flatten(value, [*path, str(index)], out)
    else:
        out.append((path[0] + "".join(f"[{segment}]" for segment in path[1:]), node))
