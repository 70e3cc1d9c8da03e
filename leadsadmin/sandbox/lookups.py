"""LIKE the way Payload's SQL adapter writes it: the pattern as given, `%` and `_`
unescaped, case-insensitive (SQLite's LIKE; ILIKE on PostgreSQL, with no escape
character, as SQLite has none)."""

from django.db.models import Func, Lookup, TextField
from django.db.models.lookups import In


class _PayloadLike(Lookup):
    negated = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        not_ = "NOT " if self.negated else ""
        if connection.vendor == "postgresql":
            return f"{lhs} {not_}ILIKE {rhs} ESCAPE ''", [*lhs_params, *rhs_params]
        return f"{lhs} {not_}LIKE {rhs}", [*lhs_params, *rhs_params]


@TextField.register_lookup
class PayloadLike(_PayloadLike):
    lookup_name = "payload_like"


@TextField.register_lookup
class PayloadNotLike(_PayloadLike):
    lookup_name = "payload_not_like"
    negated = True


class NumberText(Func):
    """A number column as JavaScript would print it (2020, not 2020.0): what
    Payload's SQLite tables hold as text, for LIKE on number fields."""

    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN {sql} = CAST({sql} AS INTEGER) THEN CAST(CAST({sql} AS INTEGER) AS TEXT)"
            f" ELSE CAST({sql} AS TEXT) END",
            params * 4,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN {sql} = trunc({sql}) THEN (({sql})::numeric::bigint)::text"
            f" ELSE ({sql})::text END",
            params * 3,
        )


class BooleanText(Func):
    """A checkbox as SQLite stores it: "1" or "0"."""

    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS TEXT)", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CASE WHEN {sql} THEN '1' WHEN NOT {sql} THEN '0' END", params * 2


class DateText(Func):
    """A date-time as Payload stores it on SQLite: 2024-01-01T08:20:00.000Z."""

    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', {sql})", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"to_char(({sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
            params,
        )


@TextField.register_lookup
class PayloadNotEqual(Lookup):
    """`<>`, nothing more: NULL never matches (Django's negation would add
    IS NOT NULL clauses and subqueries of its own)."""

    lookup_name = "payload_ne"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <> {rhs}", [*lhs_params, *rhs_params]


@TextField.register_lookup
class PayloadNotIn(In):
    """A plain `NOT IN (...)`: NULL never matches."""

    lookup_name = "payload_not_in"

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        return sql.replace(" IN ", " NOT IN ", 1), params
