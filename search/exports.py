"""The access audit as CSV that Excel opens as it is, and safe to open there.

Excel (in a Russian locale) splits a line on ``;`` and reads a file as UTF-8 only when it
begins with a byte order mark; without one the Cyrillic turns into mojibake. Headers are
translated, the stored search filters get a column each (a Python dict in a cell is of no use
to whoever filters the sheet), and times are local, in the format a Russian Excel recognises.

Audit rows carry text chosen by whoever made the request (a User-Agent, a hold reason, a
search query). A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(...)`` can leak data or lure a click), and tab or carriage return can
smuggle one past a naive check; OWASP's advice is to start such a cell with a single quote.
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import AccessEvent
from .moments import moment_format

BOM = "\ufeff"
DELIMITER = ";"
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
DATE_FORMAT = "%d.%m.%Y"
CHUNK_SIZE = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _local_time(event: AccessEvent) -> str:
    return timezone.localtime(event.at).strftime(TIME_FORMAT)


def _query_date(key: str) -> Callable[[AccessEvent], str]:
    # The filters store ISO dates; shown the way the time column is, or as stored if odd.
    def cell(event: AccessEvent) -> str:
        value = (event.query or {}).get(key, "")
        try:
            return date.fromisoformat(value).strftime(DATE_FORMAT)
        except (TypeError, ValueError):
            return value

    return cell


def _query(key: str) -> Callable[[AccessEvent], object]:
    return lambda event: (event.query or {}).get(key, "") if isinstance(event.query, dict) else ""


def _query_prefix(event: AccessEvent) -> str:
    """Whether the searched session id was taken as the beginning of ids (``match``)."""
    query = event.query if isinstance(event.query, dict) else {}
    if not query.get("session"):
        return ""
    return gettext("yes") if query.get("match") == "prefix" else gettext("no")


def _note_moment(event: AccessEvent) -> str:
    at = (event.query or {}).get("at") if isinstance(event.query, dict) else None
    return moment_format(at) if isinstance(at, int | float) else ""


# (header, cell): the query keys are the ones search.selectors.VideoFilters.as_query writes
# for a search, and search.services._note_query for a note added or deleted.
COLUMNS: list[tuple[str, Callable[[AccessEvent], object]]] = [
    (_("time"), _local_time),
    (_("user name"), lambda e: e.username),
    (_("action"), lambda e: e.get_action_display()),
    (_("through the API"), lambda e: gettext("yes") if e.via_api else gettext("no")),
    (_("session id"), lambda e: e.session_id),
    (_("recording id"), lambda e: e.video_id),
    (_("searched session"), _query("session")),
    (_("by the beginning of the id"), _query_prefix),
    (_("searched project"), _query("project")),
    (_("searched from"), _query_date("from")),
    (_("searched to"), _query_date("to")),
    (_("searched zone"), _query("zone")),
    (_("results"), lambda e: e.result_count),
    (_("note moment"), _note_moment),
    (_("note text"), _query("text")),
    (_("detail"), lambda e: e.detail),
    (_("address"), lambda e: e.remote_addr),
    (_("browser"), lambda e: e.user_agent),
]


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
    """The BOM and header, then one line per event, oldest first, every cell through
    ``csv_cell``. The rows are read ``CHUNK_SIZE`` at a time, so a year of audit streams
    out without being held in memory."""
    writer = csv.writer(_Echo(), delimiter=DELIMITER)
    yield BOM + _line(writer, (str(header) for header, _cell in COLUMNS))
    for event in events.order_by("at", "id").iterator(chunk_size=CHUNK_SIZE):
        yield _line(writer, (cell(event) for _header, cell in COLUMNS))


def audit_events_between(
    *, events: QuerySet[AccessEvent], date_from: date, date_to: date
) -> QuerySet[AccessEvent]:
    """The events from the start of ``date_from`` to the end of ``date_to``, both days in
    TIME_ZONE: a half-open range on ``at`` keeps its index usable (``__date`` would not)."""
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date_from, time.min), zone)
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min), zone)
    return events.filter(at__gte=start, at__lt=end)


def audit_csv_filename(*, now: datetime | None = None) -> str:
    """A name that sorts by when the file was made."""
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return f"opvideo-audit-{stamp}.csv"
