"""Reads for the search pages and the API."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from storage.models import Video
from zones.models import Zone
from zones.selectors import zones_by_id


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
