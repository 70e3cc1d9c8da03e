"""The preview: table state from the URL, one ``find`` per preview, rows to show.

Table state (sort, page, page size, columns, selected leads) lives in the URL
beside the filter: ``sort=-updatedAt&page=2&size=50&cols=name,email&sel=7&sel=9``
(``sel=all``: every lead the filter matches); defaults are left out, so the
shortest link reproduces the screen, and the selection survives sorting and paging.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

from django.http import QueryDict

from leadsadmin.api.errors import LeadsApiError
from leadsadmin.leads.columns import (
    COLUMNS,
    DEFAULT_COLUMNS,
    Cell,
    Column,
    cell_of,
    columns_from_param,
    columns_select,
    needs_population,
)
from leadsadmin.leads.models import ColumnPreference

PAGE_SIZES = (25, 50, 100)
# More ids than this make a link too long for some proxies; "Select all N
# matching" selects the filter itself instead.
MAX_SELECTED = 500
DEFAULT_API_SORT = "-createdAt,-id"


@dataclass(frozen=True)
class TableState:
    sort: str = ""  # a column key, "-" first for descending
    page: int = 1
    size: int = PAGE_SIZES[0]
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    selected: tuple[int, ...] = ()  # lead ids, ascending
    all_selected: bool = False  # every lead the filter matches

    @property
    def sort_column(self) -> str:
        return self.sort.lstrip("-")

    @property
    def api_sort(self) -> str:
        """The API's sort: the chosen column, then ``id`` the same way, so leads with
        the same value (or none) keep one order on every page and in the export.
        Without a choice: newest first, said outright rather than left to the
        API's default, which the export could not repeat."""
        if not self.sort:
            return DEFAULT_API_SORT
        way = "-" if self.sort.startswith("-") else ""
        field_name = COLUMNS[self.sort_column].sort_field
        return f"{way}id" if field_name == "id" else f"{way}{field_name},{way}id"

    @property
    def sort_text(self) -> str:
        """The order in words, as the export's label says it."""
        if not self.sort:
            return "newest first"
        way = "descending" if self.sort.startswith("-") else "ascending"
        return f"by {COLUMNS[self.sort_column].label}, {way}"


def table_state_from_querydict(query, remembered: tuple[str, ...] = ()) -> TableState:
    """Unknown or malformed values fall back to the defaults (they only shape the view)."""
    sort = query.get("sort", "").strip()
    if sort.lstrip("-") not in COLUMNS:
        sort = ""
    page = query.get("page", "1")
    page = int(page) if page.isdigit() and int(page) >= 1 else 1
    size = query.get("size", "")
    size = int(size) if size.isdigit() and int(size) in PAGE_SIZES else PAGE_SIZES[0]
    columns = columns_from_param(query.getlist("cols")) or remembered or DEFAULT_COLUMNS
    chosen = query.getlist("sel")
    all_selected = "all" in chosen
    selected = () if all_selected else _lead_ids(chosen)
    return TableState(
        sort=sort,
        page=page,
        size=size,
        columns=columns,
        selected=selected,
        all_selected=all_selected,
    )


def _lead_ids(values: list[str]) -> tuple[int, ...]:
    ids = {int(value) for value in values if value.isdigit() and int(value) > 0}
    return tuple(sorted(ids)[:MAX_SELECTED])


def table_querystring(state: TableState, **changes) -> str:
    state = replace(state, **changes)
    pairs = []
    if state.sort:
        pairs.append(("sort", state.sort))
    if state.page != 1:
        pairs.append(("page", state.page))
    if state.size != PAGE_SIZES[0]:
        pairs.append(("size", state.size))
    if state.columns != DEFAULT_COLUMNS:
        pairs.append(("cols", ",".join(state.columns)))
    if state.all_selected:
        pairs.append(("sel", "all"))
    pairs += [("sel", lead_id) for lead_id in state.selected]
    return urlencode(pairs, safe=",")


def leads_page_query(filter_query: str) -> str:
    """The leads page's query string for a bulk edit's filter query: its selection
    (`ids=3,9`, as `Preview.bulk_query` writes it) becomes the page's own
    (`sel=3&sel=9`), so that the page shows those leads selected."""
    query = QueryDict(filter_query, mutable=True)
    if "ids" not in query:
        return filter_query
    chosen = [part.strip() for part in query.pop("ids")[-1].split(",")]
    query.setlist("sel", [part for part in chosen if part.isdigit()])
    return query.urlencode()


def page_querystring(filter_qs: str, state: TableState, **changes) -> str:
    return "&".join(part for part in (filter_qs, table_querystring(state, **changes)) if part)


@dataclass
class Row:
    """One lead of the table; its first cell links to the lead (``id``)."""

    id: int | None
    cells: list[Cell]
    selected: bool = False


@dataclass
class Header:
    column: Column
    href_query: str
    aria_sort: str  # "ascending", "descending", "none"


@dataclass
class Preview:
    where: dict
    state: TableState
    filter_qs: str = ""
    headers: list[Header] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    total_pages: int = 0
    error: str = ""
    past_end_page: int = 0  # a page asked for past the last one; the last is shown instead

    @property
    def where_compact(self) -> str:
        return json.dumps(self.where, ensure_ascii=False)

    @property
    def total_text(self) -> str:
        return "1 lead matches" if self.total == 1 else f"{self.total:,} leads match"

    @property
    def previous_query(self) -> str:
        """The previous page's query, "" on the first page. Never "" otherwise (the
        pagination partial links only a query that is not empty): page 1 of an
        empty filter and the default table is ``page=1``."""
        if self.state.page <= 1:
            return ""
        return page_querystring(self.filter_qs, self.state, page=self.state.page - 1) or "page=1"

    @property
    def selected_count(self) -> int:
        return self.total if self.state.all_selected else len(self.state.selected)

    @property
    def selected_text(self) -> str:
        if self.state.all_selected:
            return f"All {self.total:,} matching leads selected"
        count = len(self.state.selected)
        return "1 lead selected" if count == 1 else f"{count:,} leads selected"

    @property
    def export_text(self) -> str:
        """What the export links write: the selected leads (those the filter still
        matches), or with none or all selected every matching lead."""
        if self.state.selected and not self.state.all_selected:
            count = len(self.state.selected)
            return "the selected lead" if count == 1 else f"the {count:,} selected leads"
        return "the 1 matching lead" if self.total == 1 else f"all {self.total:,} matching leads"

    @property
    def select_all_query(self) -> str:
        return page_querystring(self.filter_qs, self.state, selected=(), all_selected=True)

    @property
    def clear_selection_query(self) -> str:
        """The query without a selection; ``page=1`` rather than "" (as previous_query)."""
        query = page_querystring(self.filter_qs, self.state, selected=(), all_selected=False)
        return query or "page=1"

    @property
    def selection_form_pairs(self) -> list[tuple[str, str]]:
        """The selection form's hidden fields: the page's query and the leads
        selected on other pages; this page's checkboxes add theirs."""
        shown = {row.id for row in self.rows}
        elsewhere = tuple(i for i in self.state.selected if i not in shown)
        return parse_qsl(page_querystring(self.filter_qs, self.state, selected=elsewhere))

    @property
    def bulk_query(self) -> str:
        """The bulk edit's query: the filter, and the selected ids unless all are."""
        ids = "" if self.state.all_selected else ",".join(map(str, self.state.selected))
        return "&".join(part for part in (self.filter_qs, ids and f"ids={ids}") if part)

    @property
    def next_query(self) -> str:
        """The next page's query, "" on the last page."""
        if self.state.page >= self.total_pages:
            return ""
        return page_querystring(self.filter_qs, self.state, page=self.state.page + 1)


def lead_preview(*, client, where: dict, state: TableState, filter_qs: str) -> Preview:
    """One ``find`` for the page shown: only the shown columns, at depth 1 when one
    is a relation (for the related documents' names), else depth 0. An API
    failure becomes ``preview.error`` (a sentence), never an exception."""
    columns = [COLUMNS[key] for key in state.columns]
    headers = _headers(columns, state, filter_qs)
    preview = Preview(where=where, state=state, filter_qs=filter_qs, headers=headers)
    try:
        result = _find_page(client, where, state)
        if state.page > result.total_pages > 0:  # an old link, or leads gone since
            preview.past_end_page = state.page
            state = preview.state = replace(state, page=result.total_pages)
            result = _find_page(client, where, state)
    except LeadsApiError as exc:
        preview.error = str(exc)
        return preview
    preview.total = result.total_docs
    preview.total_pages = result.total_pages
    selected = set(state.selected)
    preview.rows = [
        Row(
            doc.get("id"),
            [cell_of(column, doc) for column in columns],
            state.all_selected or doc.get("id") in selected,
        )
        for doc in result.docs
    ]
    return preview


def _find_page(client, where: dict, state: TableState):
    return client.find(
        where=where or None,
        sort=state.api_sort,
        limit=state.size,
        page=state.page,
        depth=1 if needs_population(state.columns) else 0,
        select=columns_select(state.columns),
    )


def _headers(columns, state, filter_qs) -> list[Header]:
    headers = []
    for column in columns:
        if state.sort == column.key:
            aria, next_sort = "ascending", "-" + column.key
        elif state.sort == "-" + column.key:
            aria, next_sort = "descending", column.key
        else:
            aria, next_sort = "none", column.key
        query = page_querystring(filter_qs, state, sort=next_sort, page=1)
        headers.append(Header(column, query, aria))
    return headers


def column_preference_of(user) -> tuple[str, ...]:
    preference = ColumnPreference.objects.filter(user=user).first()
    return columns_from_param(preference.columns) if preference else ()


def column_preference_remember(user, columns: tuple[str, ...]) -> None:
    ColumnPreference.objects.update_or_create(user=user, defaults={"columns": list(columns)})
