"""The access audit as CSV, safe to open in a spreadsheet.

Audit rows carry text chosen by whoever made the request (a User-Agent, a hold reason, a
search query). A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(...)`` can leak data or lure a click), and tab or carriage return can
smuggle one past a naive check; OWASP's advice is to start such a cell with a single quote.
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone

from .models import AccessEvent

CSV_COLUMNS = [
    "at",
    "username",
    "action",
    "via_api",
    "session_id",
    "video_id",
    "query",
    "result_count",
    "detail",
    "remote_addr",
    "user_agent",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(*, value: object) -> str:
    """The text of one cell, with a leading ``'`` if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    # csv.writer wants a file; this one hands each line back for streaming.
    def write(self, value: str) -> str:
        return value


def _line(writer, values: Iterable[object]) -> str:
    return writer.writerow([csv_cell(value=v) for v in values])


def audit_csv_lines(*, events: QuerySet[AccessEvent]) -> Iterator[str]:
    """The header and one line per event, oldest first, every cell through ``csv_cell``."""
    writer = csv.writer(_Echo())
    yield _line(writer, CSV_COLUMNS)
    for event in events.order_by("at", "id").iterator(chunk_size=2000):
        yield _line(
            writer,
            (
                timezone.localtime(event.at).isoformat() if col == "at" else getattr(event, col)
                for col in CSV_COLUMNS
            ),
        )
