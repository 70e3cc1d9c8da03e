"""The sandbox's operations on leads, each answering like Payload's REST handler:
`leads_find`, `leads_count`, `lead_get`, `leads_update` (bulk), `lead_update`.

They take the parsed query (see `querystring.parse_query_string`) and raise
`PayloadError` with the status and body Payload would answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast, Collate

from leadsadmin.schema import FIELDS_BY_NAME, FieldType

from .documents import (
    COLLECTION,
    DATA_FIELDS,
    DOC_FIELDS,
    LIST_FIELDS,
    VALIDATED_TYPES,
    FieldError,
    changes_from_body,
    invalid_message,
    lead_doc,
    list_rows,
    now_ms,
    sales_rep_doc,
    selected_fields,
    stored_value_error,
)
from .limits import check_limit, check_offset, fits_int64, parse_json, too_deep
from .models import Lead, LeadListValue, SalesRep
from .where import (
    QueryError,
    ServerFault,
    js_number,
    js_parse_float,
    leads_matching,
    uses_element_join,
    validate_where,
)

SOMETHING_WENT_WRONG_TEXT = "Something went wrong."
SOMETHING_WENT_WRONG = {"errors": [{"message": SOMETHING_WENT_WRONG_TEXT}]}
NOT_FOUND = {"errors": [{"message": "Not Found"}]}
FORBIDDEN = {"errors": [{"message": "You are not allowed to perform this action."}]}
MISSING_WHERE = {"errors": [{"message": "Missing 'where' query of documents to update."}]}
INVALID_JSON = {"errors": [{"message": "Invalid JSON"}]}


class PayloadError(Exception):
    def __init__(self, status: int, body: dict):
        self.status = status
        self.body = body
        super().__init__(f"{status} {body}")


def _guard(fn):
    """Turns the sandbox's internal error types into Payload's answers."""

    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except QueryError as exc:
            raise PayloadError(400, exc.body()) from exc
        except ServerFault as exc:
            raise PayloadError(500, SOMETHING_WENT_WRONG) from exc

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


# --- query parameters, as Payload's parseParams reads them --------------------


def _where_param(query: dict):
    where = query.get("where")
    if isinstance(where, str) and where:
        refusal = too_deep(where.encode())
        if refusal:
            raise refusal
        try:
            return parse_json(where)
        except ValueError as exc:
            raise ServerFault("where is not JSON") from exc
    return where


def _number_param(query: dict, name: str):
    """Payload's parseParams: a value that reads as a number becomes one; anything
    else stays as it came (and later takes part in JavaScript arithmetic)."""
    if name not in query:
        return None
    raw = query[name]
    if isinstance(raw, str) and raw.strip() != "":
        number = js_number(raw)
        if not math.isnan(number):
            return number
    return raw


def _js_num(value) -> float:
    """JavaScript's ToNumber for the values a parameter can hold."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return js_number(value)
    if isinstance(value, list) and len(value) == 1:
        return _js_num(value[0])
    if isinstance(value, list) and not value:
        return 0.0
    return math.nan


def _js_out(value):
    """A number as JSON.stringify writes it (NaN becomes null)."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() else value
    return value


def _bool_param(query: dict, name: str):
    value = query.get(name)
    return {"true": True, "false": False}.get(value) if isinstance(value, str) else None


def _sort_param(query: dict) -> list[str] | None:
    sort = query.get("sort")
    if isinstance(sort, str):
        return sort.split(",")
    if isinstance(sort, list) and all(isinstance(s, str) for s in sort):
        return sort
    return None


_TEXTUAL_TYPES = (FieldType.TEXT, FieldType.ENUM, FieldType.ENUM_LIST, FieldType.RELATION_LIST)


def _order_by(sort: list[str] | None) -> list:
    items = list(sort) if sort else ["-createdAt"]
    if "createdAt" not in items and "-createdAt" not in items:
        items.append("-createdAt")
    order = []
    for item in items:
        descending = item.startswith("-")
        name = item[1:] if descending else item
        field = FIELDS_BY_NAME.get(name.replace("__", "."))
        if field is None:
            continue  # Payload ignores a sort it cannot resolve
        expression = (
            _element_sort(field, descending) if field.type == FieldType.ENUM_LIST else F(field.name)
        )
        if field.type == FieldType.RELATION_LIST:
            # A JSON column in the reference server: ordered by its text.
            expression = Cast(expression, TextField())
        if field.type in _TEXTUAL_TYPES and connection.vendor == "postgresql":
            # SQLite compares text byte by byte; so does PostgreSQL's "C" collation.
            expression = Collate(expression, "C")
        # NULL sorts below every value, as on SQLite (whose default this is, so
        # it is spelled out only for PostgreSQL, keeping SQLite's indexes usable).
        if connection.vendor == "sqlite":
            order.append(expression.desc() if descending else expression.asc())
        else:
            order.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_first=True)
            )
    order.append(F("id").desc())  # a stable order when createdAt ties
    return order


def _element_sort(field, descending: bool):
    """Payload's SQL adapter groups the joined element rows: the smallest element
    sorts a lead ascending, the largest descending; no element is NULL."""
    elements = LeadListValue.objects.filter(lead=OuterRef("pk"), field=field.name)
    aggregate = Max("value") if descending else Min("value")
    return Subquery(elements.values("lead").annotate(edge=aggregate).values("edge"))


def _matching(query: dict, where) -> QuerySet:
    validate_where(where)
    return leads_matching(where).order_by(*_order_by(_sort_param(query)))


def _docs(ids: list[int], fields, depth: float) -> list[dict]:
    """Documents for ids, in the order of ids, relations populated to `depth`."""
    rows = Lead.objects.filter(pk__in=ids).values(*(f.name for f in fields))
    by_id = {row["id"]: row for row in rows}
    return _populated([lead_doc(by_id[i], fields) for i in ids if i in by_id], depth)


# Payload's config.defaultDepth: a read without `depth` populates two levels.
DEFAULT_DEPTH = 2.0
POPULATED_RELATION = "salesRep"


def _depth(query: dict) -> float:
    """`depth` as Payload reads it: a number, else the default."""
    depth = _number_param(query, "depth")
    return depth if isinstance(depth, float) and not math.isnan(depth) else DEFAULT_DEPTH


def _populated(docs: list[dict], depth: float) -> list[dict]:
    """Payload's afterRead population at depth ≥ 1: a `salesRep` id that names a
    stored sales rep becomes that rep's document; an id it cannot load stays the
    id (so does every relation to a collection the sandbox does not hold)."""
    if depth < 1:
        return docs
    rep_ids = {doc.get(POPULATED_RELATION) for doc in docs} - {None}
    if not rep_ids:
        return docs
    reps = {rep.pk: rep for rep in SalesRep.objects.filter(pk__in=rep_ids)}
    for doc in docs:
        rep = reps.get(doc.get(POPULATED_RELATION))
        if rep is not None:
            doc[POPULATED_RELATION] = sales_rep_doc(rep)
    return docs


def _page_ids(ids, offset: float, limit) -> list[int]:
    """The ids SQLite returns for OFFSET/LIMIT as drizzle passes them: a NaN
    offset is left out, a negative LIMIT means none, a limit that is not a
    number is left out too; a fractional or list limit makes SQL fail.
    `ids` is a values_list queryset or an already fetched list."""
    if isinstance(limit, list):
        raise ServerFault("a list as LIMIT")
    if isinstance(limit, float) and not limit.is_integer():
        raise ServerFault("a fractional LIMIT")
    start = 0 if math.isnan(offset) else max(0, int(offset))
    if not isinstance(limit, float) or limit < 0:
        return list(ids[start:])
    return list(ids[start : start + int(limit)])


# --- reading ------------------------------------------------------------------


def _authorize(authorized: bool) -> None:
    if not authorized:
        raise PayloadError(403, FORBIDDEN)


@dataclass
class _Paging:
    """The page a find asks for, read from its parameters as Payload reads them."""

    limit_arg: object  # the limit as Payload passes it on (echoed as `limit`)
    limit: object  # None when nothing limits the page
    page: object  # the page as given (echoed as `page`)
    page_number: float
    offset: float
    pagination: bool


@dataclass
class _Totals:
    total_docs: int
    total_pages: float
    paging_counter: float
    has_prev: bool = False
    has_next: bool = False


def _paging(query: dict) -> _Paging:
    """Payload's arithmetic (operations/find.ts, drizzle's findMany) in JavaScript
    terms, so odd parameters (`limit=abc`, `page=2.5`, `limit=-1`) answer as the
    real server does."""
    limit_param = _number_param(query, "limit")
    page_param = _number_param(query, "page")
    pagination = _bool_param(query, "pagination")
    pagination = True if pagination is None else pagination
    use_pagination = pagination and limit_param != 0
    limit_arg = limit_param if limit_param is not None else (10.0 if use_pagination else 0.0)
    page = page_param if page_param not in (None, "", 0) else 1.0
    page_number = _js_num(page)
    offset = (page_number - 1) * _js_num(limit_arg)
    check_limit(limit_param, most=settings.SANDBOX_MAX_LIMIT)
    check_offset(offset)
    limit = limit_arg
    if limit == 0 and isinstance(limit, float):
        pagination = False
        limit = None
    return _Paging(limit_arg, limit, page, page_number, offset, pagination)


def _counted(qs: QuerySet, all_ids, ids: list[int], paging: _Paging, joined: bool):
    """Payload's totals, or None when it counts nothing: without pagination, or on
    an element join whose page came out longer than the limit."""
    limit = paging.limit
    fits = limit is not None and len(ids) <= _js_num(limit)
    if not paging.pagination or (joined and not fits):
        return None
    total_docs = qs.count() if all_ids is None else len(all_ids)
    numeric_limit = isinstance(limit, float) and limit != 0
    total_pages = float(math.ceil(total_docs / limit)) if numeric_limit else 1.0
    return _Totals(
        total_docs,
        total_pages,
        paging_counter=(paging.page_number - 1) * _js_num(limit) + 1,
        has_prev=paging.page_number > 1,
        has_next=total_pages > paging.page_number,
    )


def _empty_joined_page(limit) -> dict:
    """The SQL adapter's "select distinct" path answers an empty page like this."""
    empty = {
        "docs": [],
        "hasNextPage": False,
        "hasPrevPage": False,
        "limit": _js_out(limit),
        "nextPage": None,
        "page": 1,
        "pagingCounter": 0,
        "prevPage": None,
        "totalDocs": 0,
        "totalPages": 0,
    }
    if limit is None:
        del empty["limit"]
    return empty


def _page_body(docs: list[dict], paging: _Paging, totals: _Totals) -> dict:
    return {
        "docs": docs,
        "hasNextPage": totals.has_next,
        "hasPrevPage": totals.has_prev,
        "limit": _js_out(paging.limit_arg),
        "nextPage": _js_out(paging.page_number + 1) if totals.has_next else None,
        "page": _js_out(paging.page),
        "pagingCounter": _js_out(totals.paging_counter),
        "prevPage": _js_out(paging.page_number - 1) if totals.has_prev else None,
        "totalDocs": totals.total_docs,
        "totalPages": _js_out(totals.total_pages),
    }


@_guard
def leads_find(query: dict, *, authorized: bool) -> dict:
    """GET /leads: the page of matching leads with Payload's ten pagination keys."""
    where = _where_param(query)
    _authorize(authorized)
    qs = _matching(query, where)
    fields = selected_fields(query.get("select"))
    paging = _paging(query)
    joined = uses_element_join(where)
    # With joined element rows every evaluation of the where is costly; the ids of
    # all matches, fetched once, give both the page and the count. Without
    # pagination nothing is counted (as in Payload), so the page alone is read.
    all_ids = list(qs.values_list("id", flat=True)) if joined and paging.pagination else None
    matches = qs.values_list("id", flat=True) if all_ids is None else all_ids
    ids = _page_ids(matches, paging.offset, paging.limit)
    if joined and not ids:
        return _empty_joined_page(paging.limit)
    docs = _docs(ids, fields, _depth(query))
    totals = _counted(qs, all_ids, ids, paging, joined)
    if totals is None or not totals.total_docs:
        totals = _Totals(len(docs), 1.0, 1.0)
    return _page_body(docs, paging, totals)


@_guard
def leads_count(query: dict, *, authorized: bool) -> dict:
    where = _where_param(query)
    _authorize(authorized)
    validate_where(where)
    return {"totalDocs": leads_matching(where).count()}


def _lead_id(raw: str):
    """The path segment as Payload reads a numeric id (parseFloat: "12abc" is 12);
    None when it names no possible lead (a fraction, or beyond 64 bits); 500
    when it is not a number at all."""
    number = js_parse_float(raw)
    if math.isnan(number):
        raise ServerFault("the id is not a number")
    return int(number) if number.is_integer() and fits_int64(number) else None


@_guard
def lead_get(lead_id: str, query: dict, *, authorized: bool) -> dict:
    """GET /leads/<id>: the bare document."""
    _authorize(authorized)
    pk = _lead_id(lead_id)
    fields = selected_fields(query.get("select"))
    rows = list(Lead.objects.filter(pk=pk).values(*(f.name for f in fields))) if pk else []
    if not rows:
        raise PayloadError(404, NOT_FOUND)
    return _populated([lead_doc(rows[0], fields)], _depth(query))[0]


# --- writing ------------------------------------------------------------------


def _lead_label(count: int) -> str:
    return "Lead" if count == 1 else "Leads"


@_guard
def leads_update(query: dict, body, *, authorized: bool) -> tuple[int, dict]:
    """PATCH /leads?where=…: every matching lead (or the first `limit` in `sort`
    order) gets the body; each lead is validated as a whole and saved or reported.
    Returns (status, body): 200 when all were saved, 400 with the saved `docs`
    and one error per failed lead otherwise. `body` is the parsed JSON, None
    when the request carried no data."""
    where = _where_param(query)  # a JSON where that does not parse: 500, before all else
    if where is None or where == "":
        raise PayloadError(400, MISSING_WHERE)
    _authorize(authorized)
    qs = _matching(query, where)
    limit = _number_param(query, "limit")
    check_limit(limit, most=None)  # it only narrows what is updated
    fields = selected_fields(query.get("select"))
    data = _data_object(body)
    checked = checked_fields(data)
    rows = qs.values_list("id", *(f.name for f in checked))
    if isinstance(limit, float) and limit > 0:
        rows = rows[: int(limit)]
    with transaction.atomic():
        if body is None:
            saved_ids, errors = [], [_internal_error(row[0]) for row in rows]
        else:
            saved_ids, errors = _validated(rows, changes_from_body(data), checked)
    docs = _docs(saved_ids, fields, _depth(query))
    total = len(docs) + len(errors)
    if errors:
        message = f"Unable to update {len(errors)} out of {total} {_lead_label(total)}."
        return 400, {"docs": docs, "errors": errors, "message": message}
    message = f"Updated {len(docs)} {_lead_label(len(docs))} successfully."
    return 200, {"docs": docs, "errors": [], "message": message}


def _data_object(body) -> dict:
    """The fields a body sets: a JSON list, text or number sets none."""
    return body if isinstance(body, dict) else {}


def _internal_error(lead_id: int) -> dict:
    """Payload's per-lead answer when its update hooks fail on data that is not there."""
    return {"id": lead_id, "isPublic": False, "message": SOMETHING_WENT_WRONG_TEXT}


def _validated(rows, changes, checked) -> tuple[list[int], list[dict]]:
    """Saves the changes on every row that passes validation; the errors of the others."""
    saved_ids: list[int] = []
    errors: list[dict] = []
    for row in rows:
        lead_id, stored = row[0], row[1:]
        field_errors = _merged_errors(changes, checked, stored)
        if field_errors:
            message = invalid_message(field_errors)
            errors.append({"id": lead_id, "isPublic": True, "message": message})
        else:
            saved_ids.append(lead_id)
    _write(saved_ids, changes.values)
    return saved_ids, errors


def checked_fields(body: dict) -> list:
    """Stored fields that could fail validation once merged with the body."""
    return [f for f in DATA_FIELDS if f.type in VALIDATED_TYPES and f.name not in body]


def _merged_errors(changes, checked, stored) -> list[FieldError]:
    field_errors = dict(changes.errors)
    for f, value in zip(checked, stored, strict=True):
        message = stored_value_error(f, value)
        if message:
            field_errors[f.name] = FieldError(f, message)
    return [field_errors[f.name] for f in DATA_FIELDS if f.name in field_errors]


@_guard
def lead_update(lead_id: str, query: dict, body, *, authorized: bool) -> dict:
    """PATCH /leads/<id>: {doc, message}, or Payload's ValidationError. `body` is
    the parsed JSON, None when the request carried no data."""
    _authorize(authorized)
    pk = _lead_id(lead_id)
    fields = selected_fields(query.get("select"))
    data = _data_object(body)
    changes = changes_from_body(data)
    checked = checked_fields(data)
    with transaction.atomic():
        # "id" first: values_list() of no names would give every column.
        names = ("id", *(f.name for f in checked))
        rows = list(Lead.objects.filter(pk=pk).values_list(*names)) if pk else []
        if not rows:
            raise PayloadError(404, NOT_FOUND)
        if not isinstance(body, (dict, list)):
            # Payload's update hooks set fields on the data: it fails on none, text or a number.
            raise ServerFault("the body is not an object")
        field_errors = _merged_errors(changes, checked, rows[0][1:])
        if field_errors:
            raise PayloadError(400, _validation_error(pk, field_errors))
        _write([pk], changes.values)
    return {"doc": _docs([pk], fields, _depth(query))[0], "message": "Updated successfully."}


def _validation_error(lead_id: int, field_errors: list[FieldError]) -> dict:
    return {
        "errors": [
            {
                "name": "ValidationError",
                "data": {
                    "id": lead_id,
                    "collection": COLLECTION,
                    "errors": [e.as_dict() for e in field_errors],
                },
                "message": invalid_message(field_errors),
            }
        ]
    }


def _write(ids: list[int], values: dict) -> None:
    """Saves the same values on every lead in ids, and bumps updatedAt."""
    if not ids:
        return
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        Lead.objects.filter(pk__in=chunk).update(**values, updatedAt=now_ms())
        list_fields = [f for f in LIST_FIELDS if f.name in values]
        if list_fields:
            LeadListValue.objects.filter(
                lead_id__in=chunk, field__in=[f.name for f in list_fields]
            ).delete()
            LeadListValue.objects.bulk_create(
                LeadListValue(lead_id=lead_id, field=f.name, value=text)
                for lead_id in chunk
                for f in list_fields
                for text in list_rows(f, values[f.name])
            )


# --- bulk loading (seed and sandbox_load) ----------------------------------------


def leads_store(leads: Iterable[Lead], batch_size: int = 1000) -> int:
    """Inserts unsaved Lead objects (with their ids set) and their element rows."""
    count = 0
    batch: list[Lead] = []
    for lead in leads:
        batch.append(lead)
        if len(batch) >= batch_size:
            count += _store_batch(batch)
            batch = []
    if batch:
        count += _store_batch(batch)
    _reset_id_sequence()
    return count


def _store_batch(batch: list[Lead]) -> int:
    """One INSERT ... executemany per table: seeding 100,000 leads must stay quick,
    and the ORM's per-object work would dominate."""
    lead_fields = Lead._meta.concrete_fields
    attnames = [f.attname for f in lead_fields]
    prepared = [
        (i, f) for i, f in enumerate(lead_fields) if f.get_internal_type() in _PREPARED_TYPES
    ]
    rows = []
    for lead in batch:
        row = [lead.__dict__[name] for name in attnames]
        for index, f in prepared:
            row[index] = f.get_db_prep_save(row[index], connection)
        rows.append(row)
    element_rows = [
        (lead.pk, f.name, text)
        for lead in batch
        for f in LIST_FIELDS
        for text in list_rows(f, getattr(lead, f.name))
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_insert_sql(Lead, [f.column for f in lead_fields]), rows)
        cursor.executemany(_insert_sql(LeadListValue, ["lead_id", "field", "value"]), element_rows)
    return len(batch)


_PREPARED_TYPES = {"JSONField", "DateTimeField"}


def _insert_sql(model, columns: list[str]) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"


def _reset_id_sequence() -> None:
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Lead, LeadListValue]):
            cursor.execute(sql)


__all__ = [
    "DOC_FIELDS",
    "PayloadError",
    "lead_get",
    "lead_update",
    "leads_count",
    "leads_find",
    "leads_store",
    "leads_update",
]
