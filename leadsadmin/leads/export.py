"""CSV export: every matching lead, streamed page by page through ``iter_leads``.

The file is in id order whatever the table's sort: ``iter_leads`` pages by id
(``id > last seen``), which is what keeps a long export from skipping or repeating
leads changed meanwhile; the page says so beside the export links.

Only one page of leads (the client's page size) is in memory at a time; each CSV
line is handed to the response as soon as it is written. ``csv_lines`` makes every
cell formula-safe, whatever the column.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

from django.utils import timezone

from leadsadmin.api.errors import LeadsApiError
from leadsadmin.core.csv import csv_lines
from leadsadmin.leads.columns import COLUMNS, columns_from_param, columns_select, csv_value
from leadsadmin.leads.filters import FilterTree, where_from_filter

EXPORT_PAGE_SIZE = 100


def export_columns(query, shown: tuple[str, ...]) -> tuple[str, ...]:
    """The columns shown, or every column with ``fields=all``."""
    return columns_from_param(list(COLUMNS)) if query.get("fields") == "all" else shown


def export_filename() -> str:
    return f"leads-{timezone.localtime():%Y%m%d-%H%M}.csv"


def leads_csv_start(
    *, client, tree: FilterTree, columns: tuple[str, ...], tz: dt.tzinfo | None = None
) -> Iterator[str]:
    """The CSV lines. The first page is fetched now, so an API that fails at once
    raises LeadsApiError here (a page the person can read) instead of inside the
    download; a failure later ends the file with a line saying so."""
    leads = client.iter_leads(
        where=where_from_filter(tree, tz) or None,
        page_size=EXPORT_PAGE_SIZE,
        select=columns_select(columns),
    )
    first = list(itertools.islice(leads, 1))
    shown = [COLUMNS[key] for key in columns]
    rows = _rows(shown, itertools.chain(first, leads), tz)
    return csv_lines([column.label for column in shown], rows)


def _rows(columns, leads, tz) -> Iterator[list[str]]:
    try:
        for lead in leads:
            yield [csv_value(column, lead, tz) for column in columns]
    except LeadsApiError as exc:
        yield [f"The export stopped early: {exc}"]
