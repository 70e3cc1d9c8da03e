"""CSV export: every matching lead, or only the selected ones that still match, in
the table's order, streamed page by page.

The file keeps the preview's sort (``TableState.api_sort``: the chosen column, then
``id`` the same way; newest first when none is chosen), read with the API's page
numbers, ``EXPORT_PAGE_SIZE`` leads a request. Paging by id (``id > last seen``)
would survive leads changing meanwhile, but only in id order; paging by the sort
value as well would need every sortable field to answer ``greater_than`` the way
the server sorts it, nulls and list fields included, which Payload's adapters do
not promise alike. With ``id`` breaking every tie the order is total, so the pages
neither overlap nor leave gaps while the leads stay as they are; a lead whose sort
value changes during a long export can move to a page already written or still
to come, as it can for a person paging the table.

Only one page of leads is in memory at a time; each CSV line is handed to the
response as soon as it is written. ``csv_lines`` makes every cell formula-safe,
whatever the column. Relation columns are read at depth 1, so the related
documents' names are written beside their ids.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

from django.utils import timezone

from leadsadmin.api.errors import LeadsApiError
from leadsadmin.core.csv import csv_lines
from leadsadmin.leads.columns import (
    COLUMNS,
    columns_from_param,
    columns_select,
    csv_value,
    needs_population,
)
from leadsadmin.leads.filters import FilterTree, where_and, where_from_filter

EXPORT_PAGE_SIZE = 1000  # the sandbox's SANDBOX_MAX_LIMIT; Payload has no maximum


def export_columns(query, shown: tuple[str, ...]) -> tuple[str, ...]:
    """The columns shown, or every column with ``fields=all``."""
    return columns_from_param(list(COLUMNS)) if query.get("fields") == "all" else shown


def export_filename() -> str:
    return f"leads-{timezone.localtime():%Y%m%d-%H%M}.csv"


def leads_csv_start(
    *,
    client,
    tree: FilterTree,
    columns: tuple[str, ...],
    sort: str,
    selected: tuple[int, ...] = (),
    tz: dt.tzinfo | None = None,
) -> Iterator[str]:
    """The CSV lines, in ``sort`` order (an API sort, e.g. ``TableState.api_sort``);
    only the ``selected`` lead ids (``TableState.selected``) the filter still
    matches when there are any.
    The first page is fetched now, so an API that fails at once raises
    LeadsApiError here (a page the person can read) instead of inside the
    download; a failure later ends the file with a line saying so."""
    where = where_from_filter(tree, tz)
    if selected:
        where = where_and(where, [{"id": {"in": list(selected)}}])
    leads = _sorted_leads(
        client,
        where=where or None,
        sort=sort,
        select=columns_select(columns),
        depth=1 if needs_population(columns) else 0,
    )
    first = list(itertools.islice(leads, 1))
    shown = [COLUMNS[key] for key in columns]
    rows = _rows(shown, itertools.chain(first, leads), tz)
    return csv_lines([column.label for column in shown], rows)


def _sorted_leads(client, **find) -> Iterator[dict]:
    """Every lead ``find`` matches, page after page; one page in memory at a time.
    Stops at a short page or when the API says there is no next one."""
    page = 1
    while True:
        result = client.find(limit=EXPORT_PAGE_SIZE, page=page, **find)
        yield from result.docs
        if len(result.docs) < EXPORT_PAGE_SIZE or not result.has_next_page:
            return
        page += 1


def _rows(columns, leads, tz) -> Iterator[list[str]]:
    try:
        for lead in leads:
            yield [csv_value(column, lead, tz) for column in columns]
    except LeadsApiError as exc:
        yield [f"The export stopped early: {exc}"]
