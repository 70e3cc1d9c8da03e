"""LIKE the way Payload's SQL adapter writes it: the pattern as given, `%` and `_`
unescaped, case-insensitive (SQLite's LIKE; ILIKE on PostgreSQL, with no escape
character, as SQLite has none)."""

from django.db.models import Lookup, TextField


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
