"""Reads for the search pages and the API: the search (filters to a page of rows, a call's
parts together), the API's JSON of it, and a user's recent searches."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.functional import cached_property

from storage.links import video_link
from storage.models import Video
from zones.models import Zone
from zones.selectors import zones_by_id

from .integrity import IntegrityState
from .listing import ResultRow, calls_numbering, rows_by_call
from .models import AccessEvent
from .queries import SearchLink, search_link
from .session_ids import PREFIX_MIN_LENGTH, session_id_q


@dataclass(frozen=True)
class VideoFilters:
    session_id: str = ""
    project_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    zone: Zone | None = None
    # Match the session ids that start with ``session_id`` rather than the one equal to it.
    session_prefix: bool = False

    def is_empty(self) -> bool:
        return not (self.session_id or self.project_id or self.date_from or self.date_to)

    def is_one_call(self) -> bool:
        """A search for one whole session id and nothing else: every recording of the call."""
        return bool(self.session_id) and not (
            self.session_prefix or self.project_id or self.date_from or self.date_to or self.zone
        )

    def as_query(self) -> dict[str, str]:
        """The filters as the audit stores them."""
        query = {
            "session": self.session_id,
            "match": "prefix" if self.session_id and self.session_prefix else "",
            "project": self.project_id,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "zone": self.zone.name if self.zone else "",
        }
        return {k: v for k, v in query.items() if v}

    def link(self) -> SearchLink:
        """The search as a link to the search page, with its filters in words."""
        return search_link(query=self.as_query())


def video_search(*, filters: VideoFilters) -> QuerySet[Video]:
    """Recordings matching every given filter, newest first by start time.

    The session id is matched in any case, whole or by its beginning, and the project id
    exactly, each through its index (search.session_ids). Zones are neither joined nor
    prefetched: ``videos_zones_attach`` gives the rows of a page theirs without a query (a
    join also led MariaDB to scan all of VIDEO for a date range). The order is the one of
    VIDEO_RECORDING_STARTED_IDX (with the id InnoDB keeps in it): a date range reads the
    index backwards and needs no sort.
    """
    qs = Video.objects.all()
    if filters.session_id:
        qs = qs.filter(session_id_q(value=filters.session_id, prefix=filters.session_prefix))
    if filters.project_id:
        qs = qs.filter(project_id=filters.project_id)
    if filters.date_from:
        qs = qs.filter(recording_date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(recording_date__lte=filters.date_to)
    if filters.zone:
        qs = qs.filter(zone=filters.zone)
    return qs.order_by("-recording_date", "-started_at", "-id")


def videos_zones_attach(*, videos: list[Video], secrets: bool = True) -> list[Video]:
    """Set each recording's zone (without its ssh key) from ``zones_by_id``; no query in
    the common case, and never one per recording. ``secrets=False`` when no link is
    signed: then not even the link secrets are read."""
    zones = zones_by_id(ids={video.zone_id for video in videos}, secrets=secrets)
    for video in videos:
        video.zone = zones[video.zone_id]
    return videos


class ShortResultPaginator(Paginator):
    """A paginator that spares the count when the first page is all there is, and counts
    by zone when it is not.

    Almost every search is one call's session id: a handful of rows. Reading one row more
    than a page tells whether more exist; only then is a count needed, and one GROUP BY
    zone costs what a COUNT(*) does while also telling the page how many each zone has.
    """

    _head: list | None = None

    @cached_property
    def zone_counts(self) -> dict[int, int]:
        """``{zone id: recordings found}``, over every page."""
        self._head = list(self.object_list[: self.per_page + 1])
        if len(self._head) <= self.per_page:
            return dict(Counter(video.zone_id for video in self._head))
        grouped = self.object_list.order_by().values_list("zone_id").annotate(n=Count("pk"))
        return dict(grouped)

    @cached_property
    def count(self) -> int:
        return sum(self.zone_counts.values())

    def page(self, number):
        number = self.validate_number(number)  # reads count, and so the first rows
        if number == 1 and self._head is not None:
            return self._get_page(self._head[: self.per_page], number, self)
        return super().page(number)


@dataclass(frozen=True)
class SearchPage:
    page: Page
    calls: list[list[ResultRow]]  # the page's rows, a call's parts together and in order
    filters: VideoFilters  # as searched: a whole id that found nothing is tried as a beginning
    zone_counts: list[tuple[str, int]]  # (zone name, recordings found), most first

    @cached_property
    def rows(self) -> list[ResultRow]:
        return [row for call in self.calls for row in call]

    @property
    def count(self) -> int:
        """All the recordings found, on every page."""
        return self.page.paginator.count

    @property
    def linked(self) -> list[Video]:
        """The recordings of this page handed a playable link: what the audit calls viewed."""
        return [row.video for row in self.rows if row.play_url]


def video_search_page(
    *,
    filters: VideoFilters,
    page_number,
    page_size: int,
    links: bool = False,
    prefix_fallback: bool = False,
) -> SearchPage:
    """The page ``page_number`` (as given: a bad one is the first or the last page) of the
    recordings matching ``filters``, a call's parts together and numbered across the call.

    ``links``: sign each recording's play link (the API: a client that gets links); the
    pages sign none when listing, only when a part is played. ``prefix_fallback``: a whole
    session id that finds nothing is searched again as the beginning of one (a partial id
    pasted), which the page then says.
    """
    found = _search_page(filters=filters, page_number=page_number, page_size=page_size, links=links)
    if (
        prefix_fallback
        and found.count == 0
        and not filters.session_prefix
        and len(filters.session_id) >= PREFIX_MIN_LENGTH
    ):
        found = _search_page(
            filters=replace(filters, session_prefix=True),
            page_number=page_number,
            page_size=page_size,
            links=links,
        )
    return found


def _search_page(*, filters: VideoFilters, page_number, page_size: int, links: bool) -> SearchPage:
    paginator = ShortResultPaginator(video_search(filters=filters), page_size)
    page = paginator.get_page(page_number)
    videos = videos_zones_attach(videos=list(page.object_list), secrets=links)
    numbering = calls_numbering(
        videos=videos, complete=filters.is_one_call() and paginator.num_pages == 1
    )
    play_urls = {video.pk: video_link(video=video) for video in videos} if links else None
    zone_names = {
        pk: zone.name for pk, zone in zones_by_id(ids=paginator.zone_counts, secrets=False).items()
    }
    return SearchPage(
        page=page,
        calls=rows_by_call(videos=videos, numbering=numbering, play_urls=play_urls),
        filters=filters,
        zone_counts=sorted(
            ((zone_names[pk], n) for pk, n in paginator.zone_counts.items()),
            key=lambda item: (-item[1], item[0]),
        ),
    )


# How many of a user's latest search rows are read to find their recent distinct searches:
# a few pages of the same search (each page is a row) still leave ten distinct ones, and the
# hot page reads a bounded handful.
RECENT_ROWS_READ = 50


def recent_searches(*, user, limit: int = 10) -> list[SearchLink]:
    """The user's last ``limit`` distinct searches on the pages, newest first, as links.

    Read from the access audit's search rows, on ACCESS_USER_ACTION_AT_IDX (user, action,
    at): the newest rows of that range, no sort. The API's searches (an integration's,
    under the same account) are not the person's and are left out.
    """
    if not user.is_authenticated:
        return []
    queries = (
        AccessEvent.objects.filter(user=user, action=AccessEvent.Action.SEARCH, via_api=False)
        .order_by("-at", "-id")
        .values_list("query", flat=True)[:RECENT_ROWS_READ]
    )
    links, seen = [], set()
    for query in queries:
        link = search_link(query=query)
        if link is None or link.key in seen:
            continue
        seen.add(link.key)
        links.append(link)
        if len(links) == limit:
            break
    return links


def video_json(*, row: ResultRow, absolute_url: Callable[[str], str]) -> dict:
    """One recording as the API gives it; ``absolute_url`` makes a path a full URL (the
    request's ``build_absolute_uri``)."""
    v = row.video
    kept_until = row.kept_until
    return {
        "id": v.pk,
        "zone": v.zone.name,
        "session_id": v.session_id,
        "project_id": v.project_id,
        "file_name": v.file_name,
        "recording_date": v.recording_date.isoformat(),
        # What the zone worker read from the file; null until it has (media_state).
        "started_at": v.started_at.isoformat() if v.started_at else None,
        "duration": v.duration,
        "width": v.width,
        "height": v.height,
        "codec": v.codec or None,
        "operator": v.operator or None,
        "workstation": v.workstation or None,
        # The call's recordings by start time: this is part ``part`` of ``parts``.
        "part": row.part,
        "parts": row.parts,
        "size": v.size,
        "legal_hold": v.legal_hold,
        # The last day the retention rule keeps it; null once deleted or while held.
        "kept_until": kept_until.isoformat() if kept_until else None,
        "deleted_on": v.delete_date.isoformat() if v.delete_date else None,
        # The zone worker's last re-reading of the file against its hash, and where the
        # hash was taken (on storage: weaker evidence than on the workstation).
        "integrity": IntegrityState.of(v).as_json(),
        "url": row.play_url,
        # The audited download view, not a signed link: a download must leave a trace.
        "download_url": (
            absolute_url(reverse("search:download", args=[v.pk])) if row.play_url else None
        ),
    }


def search_page_json(*, found: SearchPage, absolute_url: Callable[[str], str]) -> dict:
    """A page of results as the API gives it: a call's parts together and in order."""
    return {
        "count": found.count,
        "page": found.page.number,
        "pages": found.page.paginator.num_pages,
        "results": [video_json(row=row, absolute_url=absolute_url) for row in found.rows],
    }
