"""Reads for the search pages and the API: the search (filters to a page of rows with
their play links) and the API's JSON of it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property

from storage.links import video_link
from storage.models import Video
from zones.models import Zone
from zones.selectors import zones_by_id

from .integrity import IntegrityState


@dataclass(frozen=True)
class VideoFilters:
    session_id: str = ""
    project_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    zone: Zone | None = None

    def is_empty(self) -> bool:
        return not (self.session_id or self.project_id or self.date_from or self.date_to)

    def as_query(self) -> dict[str, str]:
        """The filters as the audit stores them."""
        query = {
            "session": self.session_id,
            "project": self.project_id,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "zone": self.zone.name if self.zone else "",
        }
        return {k: v for k, v in query.items() if v}


def video_search(*, filters: VideoFilters) -> QuerySet[Video]:
    """Recordings matching every given filter, newest first.

    The session and project ids are exact matches so MariaDB uses their indexes. Zones are
    neither joined nor prefetched: ``videos_zones_attach`` gives the rows of a page theirs
    without a query (a join also led MariaDB to scan all of VIDEO for a date range).
    """
    qs = Video.objects.all()
    if filters.session_id:
        qs = qs.filter(session_id=filters.session_id)
    if filters.project_id:
        qs = qs.filter(project_id=filters.project_id)
    if filters.date_from:
        qs = qs.filter(recording_date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(recording_date__lte=filters.date_to)
    if filters.zone:
        qs = qs.filter(zone=filters.zone)
    return qs.order_by("-recording_date", "-id")


def videos_zones_attach(*, videos: list[Video]) -> list[Video]:
    """Set each recording's zone (without its ssh key) from ``zones_by_id``; no query in
    the common case, and never one per recording."""
    zones = zones_by_id(ids={video.zone_id for video in videos})
    for video in videos:
        video.zone = zones[video.zone_id]
    return videos


class ShortResultPaginator(Paginator):
    """A paginator that spares the COUNT(*) when the first page is all there is.

    Almost every search is one call's session id: a handful of rows. Reading one row more
    than a page tells whether more exist; only then is a count needed.
    """

    _head: list | None = None

    @cached_property
    def count(self) -> int:
        self._head = list(self.object_list[: self.per_page + 1])
        if len(self._head) <= self.per_page:
            return len(self._head)
        return self.object_list.count()

    def page(self, number):
        number = self.validate_number(number)  # reads count, and so the first rows
        if number == 1 and self._head is not None:
            return self._get_page(self._head[: self.per_page], number, self)
        return super().page(number)


@dataclass(frozen=True)
class ResultRow:
    video: Video
    play_url: str | None  # None: it cannot be watched (deleted, or its zone serves no links)


@dataclass(frozen=True)
class SearchPage:
    page: Page
    rows: list[ResultRow]

    @property
    def count(self) -> int:
        """All the recordings found, on every page."""
        return self.page.paginator.count

    @property
    def linked(self) -> list[Video]:
        """The recordings of this page handed a playable link: what the audit calls viewed."""
        return [row.video for row in self.rows if row.play_url]


def video_search_page(*, filters: VideoFilters, page_number, page_size: int) -> SearchPage:
    """The page ``page_number`` (as given: a bad one is the first or the last page) of the
    recordings matching ``filters``, each with its signed play link."""
    paginator = ShortResultPaginator(video_search(filters=filters), page_size)
    page = paginator.get_page(page_number)
    videos = videos_zones_attach(videos=list(page.object_list))
    return SearchPage(
        page=page, rows=[ResultRow(video=v, play_url=video_link(video=v)) for v in videos]
    )


def video_json(*, row: ResultRow, absolute_url: Callable[[str], str]) -> dict:
    """One recording as the API gives it; ``absolute_url`` makes a path a full URL (the
    request's ``build_absolute_uri``)."""
    v = row.video
    return {
        "id": v.pk,
        "zone": v.zone.name,
        "session_id": v.session_id,
        "project_id": v.project_id,
        "file_name": v.file_name,
        "recording_date": v.recording_date.isoformat(),
        "size": v.size,
        "legal_hold": v.legal_hold,
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
    """A page of results as the API gives it."""
    return {
        "count": found.count,
        "page": found.page.number,
        "pages": found.page.paginator.num_pages,
        "results": [video_json(row=row, absolute_url=absolute_url) for row in found.rows],
    }


def video_play_json(*, video: Video, url: str) -> dict:
    """What the player needs to play one part, with its freshly signed ``url``.

    The contract of ``search:play`` (search/static/search/player.js reads it): ``id``,
    ``url`` (signed play link), ``download_url`` (the audited download view), ``page`` (the
    recording's page), ``duration`` (seconds or null), ``started_at`` (ISO or null).
    """
    return {
        "id": video.pk,
        "url": url,
        "download_url": reverse("search:download", args=[video.pk]),
        "page": reverse("search:video", args=[video.pk]),
        "duration": video.duration,
        "started_at": video.started_at.isoformat() if video.started_at else None,
    }
