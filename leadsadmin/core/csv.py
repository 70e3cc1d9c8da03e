"""The one way the app writes CSV: streamed line by line, formula-safe.

Lead data and API messages are outside text: a cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would be read as a formula by a
spreadsheet, so such text cells get a leading apostrophe (OWASP's advice).
Numbers are written as numbers. defusedcsv was weighed and not taken: it leaves
tab- and CR-leading cells alone, which OWASP lists too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """`cell` as a spreadsheet will not evaluate it."""
    if isinstance(cell, str) and cell.startswith(FORMULA_LEADS):
        return "'" + cell
    return cell


class _Line:
    """A file-like that hands back what csv.writer writes (one line at a time)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text of `header` and `rows`, one line at a time, every cell made safe."""
    writer = csv.writer(_Line())
    yield writer.writerow([spreadsheet_safe(cell) for cell in header])
    for row in rows:
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])


def csv_response(lines: Iterable[str], filename: str) -> StreamingHttpResponse:
    """A streamed download of CSV `lines` (from `csv_lines`) named `filename`."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
