"""Payload `where` objects: validated like Payload, translated to ORM `Q` objects.

Semantics follow Payload 3.90.2's SQL adapter (drizzle over SQLite) as recorded in
`payload-observed.md`; the comments name the quirks. Two operators are answered as
the MongoDB adapter answers them, because the SQL adapter fails with a 500:
`all` (every listed element present) and an `in` whose list ends up empty or holds
only unparseable numbers (matches nothing).

A multi-value select's element rows are joined once per where, as the SQL adapter
joins them, so all conditions on that field look at the same element row.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet

from leadsadmin.schema import FIELDS_BY_NAME, PAYLOAD_OPERATORS, FieldType, LeadField

from .limits import Refused, fits_int64
from .lookups import BooleanText, DateText, NumberText, PayloadLike, PayloadNotLike
from .models import Lead, LeadListValue

VALID_OPERATORS = frozenset(PAYLOAD_OPERATORS)
NUMERIC_TYPES = frozenset({FieldType.NUMBER, FieldType.RELATION})
MATCH_NOTHING = Q(pk__in=[])
MATCH_ALL = Q()
COMPARISON_LOOKUPS = {
    "greater_than": "gt",
    "greater_than_equal": "gte",
    "less_than": "lt",
    "less_than_equal": "lte",
}


class QueryError(Exception):
    """Paths that cannot be queried (Payload's QueryError, HTTP 400)."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        noun = "path" if len(paths) == 1 else "paths"
        super().__init__(f"The following {noun} cannot be queried: {', '.join(paths)}")

    def body(self) -> dict:
        return {
            "errors": [
                {
                    "name": "QueryError",
                    "data": [{"path": path} for path in self.paths],
                    "message": str(self),
                }
            ]
        }


class ServerFault(Exception):
    """Where Payload itself fails with a 500 "Something went wrong."."""


def _entries(value):
    """Own keys and values, as JavaScript's for...in would give them."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, (list, str)):
        return [(str(i), item) for i, item in enumerate(value)]
    return []


def resolve_path(path: str) -> LeadField | None:
    name = "id" if path == "_id" else path.replace("__", ".")
    return FIELDS_BY_NAME.get(name)


def validate_where(where) -> None:
    """Raises QueryError listing every path Payload would refuse, in its order."""
    errors: list[str] = []
    _collect_errors(where, errors)
    if errors:
        raise QueryError(errors)


def _collect_errors(where, errors: list[str]) -> None:
    if not isinstance(where, (dict, list)):
        return
    for path, constraint in _entries(where):
        if path.lower() in ("and", "or") and isinstance(constraint, list):
            for item in constraint:
                _collect_errors(item, errors)
        elif isinstance(constraint, list):
            errors.append(path)
        else:
            for operator, value in _entries(constraint):
                if operator not in VALID_OPERATORS:
                    errors.append(f"{path}.{operator}")
                    continue
                if operator in ("like", "not_like", "contains") and _is_plain_object(value):
                    errors.append(path)
                    continue
                if resolve_path(path) is None:
                    errors.append(path.replace("__", "."))


def _is_plain_object(value) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict) for v in value)
    )


def uses_element_join(where) -> bool:
    """True when Payload's SQL adapter would join a multi-value select's table to
    answer this where (it then reports an empty page differently)."""
    return bool(joined_list_fields(where))


def where_to_q(where) -> Q:
    """The ORM condition for a validated where (an empty or absent where: all)."""
    q = _where_q(where)
    return MATCH_ALL if q is None else q


def _where_q(where) -> Q | None:
    if not isinstance(where, dict) or not where:
        return None
    result = None
    constraints: list[Q] = []
    for path, condition in where.items():
        if not path:
            continue
        if isinstance(condition, list):
            built = [q for q in (_where_q(c) for c in condition if _is_object(c)) if q]
            if built:
                # Payload keeps only the last and/or key of one object.
                result = _combine(built, path.lower() == "or")
            continue
        if not isinstance(condition, dict):
            continue
        field = resolve_path(path)
        for operator, value in condition.items():
            if operator not in VALID_OPERATORS:
                continue
            q = condition_q(field, operator, value)
            if q is not None:
                constraints.append(q)
    if constraints:
        return _combine(([result] if result is not None else []) + constraints, False)
    return result


def _is_object(value) -> bool:
    if value is None:
        raise ServerFault("null where")
    return isinstance(value, (dict, list))


def _combine(qs: list[Q], use_or: bool) -> Q:
    combined = qs[0]
    for q in qs[1:]:
        combined = (combined | q) if use_or else (combined & q)
    return combined


# --- values, as JavaScript would coerce them -------------------------------

_JS_FLOAT = re.compile(r"^\s*([+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))")


def js_parse_float(value) -> float:
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    match = _JS_FLOAT.match(str(value))
    if not match:
        return math.nan
    return float(match.group(1).replace("Infinity", "inf"))


def js_number(value) -> float:
    """JavaScript's Number(value) for the values a where can hold."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            if re.fullmatch(r"[+-]?(Infinity|\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)", text):
                return float(text.replace("Infinity", "inf"))
            if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
                return float(int(text, 16))
            if re.fullmatch(r"0[oO][0-7]+", text):
                return float(int(text[2:], 8))
            if re.fullmatch(r"0[bB][01]+", text):
                return float(int(text[2:], 2))
        except ValueError:
            return math.nan
        return math.nan
    return math.nan


def js_string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    return str(value)


def _comma_list(value):
    """`in`/`not_in`/`all` values: a comma string is split (no trimming), a
    number becomes a one-element list, anything else that is not a list
    drops the condition (None)."""
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list):
        return value
    return None


def _number_or_none(value):
    number = js_number(value) if isinstance(value, str) else value
    if isinstance(number, float) and math.isnan(number):
        return None
    return number


_JS_DATE_ONLY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
# JavaScript's Date reads a time only with hours and minutes ("2024-01-01T00" is invalid).
_JS_TIME = re.compile(r"T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")


def js_date(value):
    """new Date(value) as an aware datetime; None for "null"/""; math.nan when invalid."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            return math.nan  # JavaScript's Invalid Date: beyond year 9999 or not finite
    if not isinstance(value, str):
        return math.nan
    if value in ("null", ""):
        return None
    text = value.strip()
    try:
        if _JS_DATE_ONLY.match(text):
            parts = [int(p) for p in text.split("-")] + [1, 1]
            return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
        if "T" in text and not _JS_TIME.search(text):
            return math.nan
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return math.nan
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def payload_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}Z"
    )


def _is_invalid(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


# --- one condition ----------------------------------------------------------


def condition_q(field: LeadField, operator: str, value) -> Q | None:
    """The Q for `{field: {operator: value}}`; None when Payload drops the condition."""
    if operator in ("near", "within", "intersects"):
        raise ServerFault(f"{operator} on a field that is not a point")
    if field.is_list:
        return _list_q(field, operator, value)
    if field.type in NUMERIC_TYPES and operator == "like":
        operator = "equals"
    if operator == "like":
        if not isinstance(value, str):
            raise ServerFault("like needs a string")
        q = Q()
        for word in value.split(" "):
            q &= _like(field, f"%{word}%")
        return q
    if operator == "exists":
        return Q(**{f"{field.name}__isnull": not _means_exists(value)})
    value = _coerce(field, operator, value)
    if value is _DROP:
        return None
    return _scalar_q(field, field.name, operator, value)


def _means_exists(value) -> bool:
    """Only true or "true" ask for presence; any other value asks for absence."""
    return value is True or value == "true"


def _as_text(field: LeadField):
    """The column as the text Payload's SQLite table holds, for LIKE."""
    column = F(field.name)
    if field.type in NUMERIC_TYPES:
        return NumberText(column)
    if field.type == FieldType.BOOLEAN:
        return BooleanText(column)
    if field.type == FieldType.DATETIME:
        return DateText(column)
    return column


def _like(field: LeadField, pattern: str, negated: bool = False) -> Q:
    lookup = PayloadNotLike if negated else PayloadLike
    return Q(lookup(_as_text(field), pattern))


_DROP = object()


class _Unequal:
    """A value unequal to everything the column holds, which SQLite orders above
    (text against a number column) or below (a number against a text column)
    every stored value."""

    def __init__(self, above: bool):
        self.above = above


_ABOVE_ALL = _Unequal(above=True)
_BELOW_ALL = _Unequal(above=False)

# Columns drizzle binds any value to: a number column takes String(value), a
# checkbox its truthiness. Other columns fail on a list or an object.
_ANY_VALUE_TYPES = NUMERIC_TYPES | {FieldType.BOOLEAN}
_SQL_NUMERIC = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _coerce(field: LeadField, operator: str, value):
    if field.type == FieldType.BOOLEAN and isinstance(value, str):
        if value.lower() == "true":
            value = True
        elif value.lower() == "false":
            value = False
    if operator in ("in", "not_in", "all"):
        return _coerce_list(field, operator, value)
    if field.type in NUMERIC_TYPES and isinstance(value, str):
        return _number_or_none(value)
    # Payload turns only text and numbers into dates; true, false and null pass as they are.
    if field.type == FieldType.DATETIME and _is_date_input(value):
        date = js_date(value)
        if _is_invalid(date):
            raise ServerFault("not a date")  # drizzle binds `undefined`
        return date
    return value


def _coerce_list(field: LeadField, operator: str, value):
    items = _comma_list(value)
    if items is None:
        return _DROP
    if field.type in NUMERIC_TYPES:
        items = [js_parse_float(v) if isinstance(v, str) else v for v in items]
    unparseable = [v for v in items if _is_invalid(v)]
    # Payload writes an id list into the SQL text itself: NaN there is an unknown
    # column. An `in` of nothing parseable keeps the MongoDB answer (module docstring).
    if field.name == "id" and unparseable and (operator != "in" or len(unparseable) < len(items)):
        raise ServerFault("NaN in an id list")
    if field.type == FieldType.DATETIME:
        items = [d for d in (js_date(v) for v in items) if not _is_invalid(d)]
    return items


def _is_date_input(value) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _js_truthy(value) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (False, 0, "", None)


def _db_value(field: LeadField, value):
    """A value as the column compares it, or an _Unequal when it never equals one."""
    if value is None:
        return None
    if field.type == FieldType.BOOLEAN:
        # drizzle writes a checkbox value as 1 when it is truthy, else 0.
        return _js_truthy(value)
    if field.type in NUMERIC_TYPES:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
            if _is_invalid(number):
                return None
            return _id_value(number) if field.name == "id" else number
        if field.name == "id":
            # An integer column: the driver binds true/false as 1/0, and no list or object.
            if isinstance(value, bool):
                return float(value)
            raise ServerFault("a list or an object as an id")
        # Bound as String(value): SQLite reads numeric text as a number, other text
        # sorts above every number.
        text = js_string(value)
        return float(text) if _SQL_NUMERIC.fullmatch(text) else _ABOVE_ALL
    if field.type == FieldType.DATETIME:
        # Besides dates only true/false get here: bound as 1/0, below every date text.
        return value if isinstance(value, datetime) else _BELOW_ALL
    return bound_text(value)


def _id_value(number: float):
    """An id as the integer column compares it. Payload writes one beyond 64 bits
    into the SQL, where it equals no id and lies beyond all; an infinite one
    fails Payload with a 500, and is refused here."""
    if math.isinf(number):
        raise Refused(400, "An id in the where is not a finite number.")
    if fits_int64(number):
        return number
    return _ABOVE_ALL if number > 0 else _BELOW_ALL


def bound_text(value) -> str:
    """A value compared with a text column as SQLite sees it once the driver has
    bound it: JavaScript numbers are bound as REAL (12207 reads "12207.0"),
    booleans as 1/0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(float(value))
    return str(value)


def _pattern_text(field: LeadField, value, *, bound: bool = False) -> str:
    """The text a LIKE compares with: `contains` builds it in a template string
    (JavaScript's String), `not_like` binds the value itself."""
    if isinstance(value, datetime):
        return payload_datetime(value)
    if value is None:
        return "null"
    if bound and isinstance(value, bool) and field.type in _ANY_VALUE_TYPES:
        # Observed: NOT LIKE true/false holds for every checkbox and number value.
        return js_string(value)
    return bound_text(value) if bound else js_string(value)


def _scalar_q(field: LeadField, column: str, operator: str, value) -> Q | None:
    if operator in ("in", "not_in", "all"):
        return _scalar_list_q(field, column, operator, value)
    if _unbindable(field, operator, value):
        raise ServerFault("an object where a value belongs")
    if operator == "contains":
        return _like(field, f"%{_pattern_text(field, value)}%")
    if operator == "not_like":
        if value is None:
            return MATCH_NOTHING  # NOT LIKE NULL is never true
        return _like(field, _pattern_text(field, value, bound=True), negated=True)
    db_value = _db_value(field, value)
    if operator in ("equals", "not_equals"):
        return _equality_q(field, column, operator, db_value)
    return _comparison_q(column, operator, db_value)


def _unbindable(field: LeadField, operator: str, value) -> bool:
    """A list or an object the driver cannot bind: a LIKE pattern takes no list,
    and only the columns of _ANY_VALUE_TYPES turn one into a value."""
    if isinstance(value, list) and operator in ("contains", "not_like"):
        return True
    return isinstance(value, (dict, list)) and field.type not in _ANY_VALUE_TYPES


def _equality_q(field: LeadField, column: str, operator: str, db_value) -> Q:
    never_equal = _never_equal(field, db_value)
    if operator == "equals":
        if db_value is None:
            return Q(**{f"{column}__isnull": True})
        return MATCH_NOTHING if never_equal else Q(**{column: db_value})
    if db_value is None:
        return Q(**{f"{column}__isnull": False})
    if never_equal:
        return MATCH_ALL
    return Q(**{f"{column}__isnull": True}) | (
        Q(**{f"{column}__isnull": False}) & ~Q(**{column: db_value})
    )


def _comparison_q(column: str, operator: str, db_value) -> Q:
    if db_value is None:
        # SQL compares with NULL as unknown: no match.
        return MATCH_NOTHING
    if isinstance(db_value, _Unequal):
        above = db_value.above
        greater = operator.startswith("greater_than")
        # Every stored value lies on the other side of it.
        return Q(**{f"{column}__isnull": False}) if greater != above else MATCH_NOTHING
    lookup = COMPARISON_LOOKUPS[operator]
    return Q(**{f"{column}__{lookup}": db_value})


def _scalar_list_q(field: LeadField, column: str, operator: str, values: list) -> Q:
    has_null = any(v is None for v in values)
    db_values = [_db_value(field, v) for v in values if v is not None]
    db_values = [v for v in db_values if v is not None and not _never_equal(field, v)]
    if operator == "all":
        # MongoDB's $all on a scalar: the value equals every listed element.
        distinct = set(db_values)
        if not values or len(distinct) != 1 or has_null:
            return MATCH_NOTHING
        return Q(**{column: db_values[0]})
    if operator == "in":
        q = Q(**{f"{column}__in": db_values}) if db_values else MATCH_NOTHING
        return q | Q(**{f"{column}__isnull": True}) if has_null else q
    if not values:
        return MATCH_ALL  # drizzle's NOT IN of nothing is `true`
    # not_in: plain NOT IN, so rows whose value is null never match.
    if has_null:
        return MATCH_NOTHING
    q = Q(**{f"{column}__isnull": False})
    return q & ~Q(**{f"{column}__in": db_values}) if db_values else q


def _never_equal(field: LeadField, db_value) -> bool:
    """True for a value no stored one equals (Django would cut 42.5 to 42 for the id)."""
    return isinstance(db_value, _Unequal) or (
        field.name == "id" and isinstance(db_value, float) and not db_value.is_integer()
    )


# --- multi-value fields -----------------------------------------------------


def _elements(field: LeadField, condition: Q) -> Q:
    matching = LeadListValue.objects.filter(condition, field=field.name).values("lead_id")
    return Q(pk__in=matching)


def _no_elements(field: LeadField) -> Q:
    return ~Exists(LeadListValue.objects.filter(lead=OuterRef("pk"), field=field.name))


def element_text(field: LeadField, value) -> str | None:
    """How one element value is stored (and compared) in LeadListValue.value."""
    if value is None:
        return None
    if field.type == FieldType.RELATION_LIST:
        number = js_number(value) if isinstance(value, str) else value
        is_number = isinstance(number, (int, float)) and not isinstance(number, bool)
        if is_number and not _is_invalid(float(number)):
            return js_string(float(number))
    if isinstance(value, (dict, list)):
        raise ServerFault("an object where a value belongs")
    return bound_text(value)


def element_alias(field: LeadField) -> str:
    """The name of the joined element rows of a multi-value select."""
    return f"{field.name}_element"


def _list_q(field: LeadField, operator: str, value) -> Q | None:
    """Per-element semantics. A multi-value select is answered as Payload's SQL
    adapter answers it: its element rows are LEFT JOINed once for the whole where
    (see `leads_matching`), so every condition on the field looks at the same
    element row, and a lead without elements has one row whose value is NULL.
    Relation lists use one subquery per condition."""
    if operator == "exists" and field.type == FieldType.RELATION_LIST:
        # Stored as a JSON column in the reference server: null or not.
        return Q(**{f"{field.name}__isnull": not _means_exists(value)})
    if operator == "like" and not isinstance(value, str):
        raise ServerFault("like needs a string")
    if operator == "contains":
        return _contains_q(field, value)
    if operator in ("in", "not_in", "all"):
        items = _comma_list(value)
        if items is None:
            return None
        if operator == "all":
            return _all_q(field, items)
        value = items
    elif isinstance(value, (dict, list)) and operator != "exists":
        raise ServerFault("an object where a value belongs")
    if field.type == FieldType.ENUM_LIST:
        return _element_q(f"{element_alias(field)}__value", operator, field, value)
    return _relation_list_q(field, operator, value)


def _contains_q(field: LeadField, value) -> Q | None:
    """On a multi-value field `contains` asks for an element equal to the value, or
    to any value of a list (an empty list drops the condition). Payload compares a
    null with `=` here, which is never true."""
    if value is None:
        return MATCH_NOTHING
    if not isinstance(value, list):
        return _list_q(field, "equals", value)
    if not value:
        return None
    conditions = [_list_q(field, "equals", item) for item in value if item is not None]
    return _combine(conditions, use_or=True) if conditions else MATCH_NOTHING


def _all_q(field: LeadField, items: list) -> Q:
    """MongoDB's $all: every listed element is present ($all: [] matches nothing)."""
    if not items or any(v is None for v in items):
        return MATCH_NOTHING
    q = Q()
    for text in dict.fromkeys(element_text(field, v) for v in items):
        q &= _elements(field, Q(value=text))
    return q


def _element_q(column: str, operator: str, field: LeadField, value) -> Q:
    """One condition on an element row's value column, written as drizzle writes it."""
    if operator == "exists":
        return Q(**{f"{column}__isnull": not _means_exists(value)})
    if operator == "like":
        q = Q()
        for word in value.split(" "):
            q &= Q(**{f"{column}__payload_like": f"%{word}%"})
        return q
    if operator == "not_like":
        if value is None:
            return MATCH_NOTHING  # NOT LIKE NULL is never true
        return Q(**{f"{column}__payload_not_like": bound_text(value)})
    if operator in ("in", "not_in"):
        has_null = any(v is None for v in value)
        texts = [element_text(field, v) for v in value if v is not None]
        if operator == "in":
            q = Q(**{f"{column}__in": texts}) if texts else MATCH_NOTHING
            return q | Q(**{f"{column}__isnull": True}) if has_null else q
        if has_null:
            return MATCH_NOTHING  # NOT IN (..., NULL) is never true
        if not texts:
            return MATCH_ALL
        return Q(**{f"{column}__payload_not_in": texts})
    text = element_text(field, value)
    if operator == "equals":
        return Q(**{f"{column}__isnull": True}) if text is None else Q(**{column: text})
    if operator == "not_equals":
        if text is None:
            return Q(**{f"{column}__isnull": False})
        return Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__payload_ne": text})
    if text is None:
        return MATCH_NOTHING
    lookup = COMPARISON_LOOKUPS[operator]
    return Q(**{f"{column}__{lookup}": text})


def _relation_list_q(field: LeadField, operator: str, value) -> Q:
    """A condition on some element of a relation list, or on none (the NULL row of
    a left join): a lead matches when one element row satisfies it, or when it has
    no elements and the condition holds for NULL."""
    holds_for_null = (
        (operator == "not_equals" and value is not None)
        or (operator == "equals" and value is None)
        or (operator == "in" and any(v is None for v in value))
    )
    some = _elements(field, _element_q("value", operator, field, value))
    return some | Q(_no_elements(field)) if holds_for_null else some


def joined_list_fields(where) -> list[LeadField]:
    """The multi-value selects a where puts conditions on (each is joined once)."""
    found: dict[str, LeadField] = {}
    for path, constraint in _entries(where) if isinstance(where, (dict, list)) else []:
        if path.lower() in ("and", "or") and isinstance(constraint, list):
            for item in constraint:
                for f in joined_list_fields(item):
                    found[f.name] = f
        elif isinstance(constraint, dict):
            field = resolve_path(path)
            if field is not None and field.type == FieldType.ENUM_LIST:
                found[field.name] = field
    return list(found.values())


def leads_matching(where) -> QuerySet:
    """The leads a validated where matches (an empty or absent where: all)."""
    q = where_to_q(where)
    joined = joined_list_fields(where)
    if not joined:
        return Lead.objects.filter(q)
    relations = {
        element_alias(f): FilteredRelation("list_values", condition=Q(list_values__field=f.name))
        for f in joined
    }
    matching = Lead.objects.annotate(**relations).filter(q).values("pk")
    return Lead.objects.filter(pk__in=matching)
