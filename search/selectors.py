"""Reads for the search pages and the API."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, QuerySet

from storage.models import Video
from zones.models import Zone


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
    prefetched rather than joined: a page then decrypts each zone's link secret once, not
    once per row, and the number of queries does not grow with the number of results.
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
    # The ssh key is not needed to show or sign anything: don't decrypt it.
    zones = Zone.objects.defer("ssh_private_key")
    return qs.prefetch_related(Prefetch("zone", queryset=zones)).order_by("-recording_date", "-id")
