"""The storage forecast of each zone, from its last snapshot and its last days' figures.

Read only from ``StorageSnapshot`` and ``ZoneDay`` (a few hundred rows for all zones), never
from VIDEO: the admin home, ``/metrics`` and the API call it on every request.

The rate is the mean of the last ``OPVIDEO_CAPACITY_WINDOW_DAYS`` complete days (today is
still filling). Growth is what arrived minus what the purge freed; the disk fills in
``free / growth`` days. Retention fits when ``retention_days`` days of arrivals at that rate
(what the disk holds once the purge keeps pace) fit in the room the recordings have: their
own bytes plus the free bytes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from zones.models import Zone
from zones.selectors import zone_list

from ..models import StorageSnapshot, ZoneDay

# A snapshot dated further ahead than this is not believed: a storage host whose clock runs
# ahead (or a forged row) would otherwise stay "the latest" and hide every real one.
FUTURE_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class ZoneForecast:
    zone: Zone
    snapshot: StorageSnapshot | None
    # Mean bytes a day over the window's complete days (None: no day recorded yet).
    ingest_per_day: float | None
    purge_per_day: float | None
    window_days: int

    @property
    def growth_per_day(self) -> float | None:
        if self.ingest_per_day is None:
            return None
        return self.ingest_per_day - (self.purge_per_day or 0.0)

    @property
    def days_to_full(self) -> float | None:
        """Days from now until the disk is full at the current net growth (the snapshot's
        free room less what has grown since it was taken); None when it does not grow (or
        nothing is known): it never fills at this rate."""
        growth = self.growth_per_day
        if self.snapshot is None or growth is None or growth <= 0:
            return None
        # Whole days: the hour's snapshot is "now" for a forecast counted in days.
        age_days = max(snapshot_age(self.snapshot).days, 0)
        return max(self.snapshot.free_bytes / growth - age_days, 0.0)

    @property
    def retention_bytes(self) -> float | None:
        """What keeping the zone's retention takes at the current arrival rate."""
        if self.ingest_per_day is None:
            return None
        return self.ingest_per_day * self.zone.retention_days

    @property
    def room_bytes(self) -> int | None:
        """What the disk can give the recordings: what they take now plus what is free.
        Not the disk's size less what else is on it: that would count the blocks the file
        system reserves for root (5 % on ext4, 300 GB of 6 TB), which the storage user
        never gets."""
        if self.snapshot is None:
            return None
        return self.snapshot.file_bytes + self.snapshot.free_bytes

    @property
    def retention_fits(self) -> bool | None:
        """Whether ``retention_days`` of arrivals fit on the disk; None: not known yet."""
        need, room = self.retention_bytes, self.room_bytes
        if need is None or room is None:
            return None
        return need <= room

    @property
    def warning(self) -> bool:
        """Whether an admin must act: the disk fills within the threshold, or retention
        does not fit."""
        days = self.days_to_full
        soon = days is not None and days < settings.OPVIDEO_CAPACITY_WARN_DAYS
        return soon or self.retention_fits is False

    def snapshot_stale(self, *, now: datetime | None = None) -> bool:
        """Whether the zone's worker has not recorded a snapshot for two intervals (or
        never): it is down, or PATH_DST is not mounted, and the forecast goes stale."""
        age = snapshot_age(self.snapshot, now=now)
        return age is None or age > snapshot_stale_after()

    def needs_attention(self, *, now: datetime | None = None) -> bool:
        """What the admin warning shows: the forecast's warning, or snapshots that stopped
        coming. A zone that never sent one is not warned about on every page (a zone just
        added, its worker not deployed yet): the dashboard and the API say so."""
        stopped = self.snapshot is not None and self.snapshot_stale(now=now)
        return self.warning or stopped

    @property
    def full_on(self) -> date | None:
        days = self.days_to_full
        if days is None or math.isinf(days) or days > 36500:
            return None
        return timezone.localdate() + timedelta(days=int(days))


def latest_snapshots(zone_ids) -> dict[int, StorageSnapshot]:
    """Each zone's latest snapshot: one query for the newest time per zone, one for rows.

    The newest times are one MAX per zone glued with UNION ALL: with an equality on the
    zone the database reads the end of that zone's range of the (zone, taken_at) index,
    where a GROUP BY over ``ZONE_ID IN (...)`` walks every snapshot ever taken.
    """
    believed = timezone.now() + FUTURE_SLACK
    parts = [
        StorageSnapshot.objects.filter(zone_id=zone, taken_at__lte=believed)
        .values("zone_id")
        .annotate(at=Max("taken_at"))
        .order_by()
        for zone in zone_ids
    ]
    if not parts:
        return {}
    newest = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    pairs = {(row["zone_id"], row["at"]) for row in newest}
    if not pairs:
        return {}
    rows = StorageSnapshot.objects.filter(
        zone_id__in={zone for zone, _ in pairs}, taken_at__in={at for _, at in pairs}
    ).order_by()
    return {row.zone_id: row for row in rows if (row.zone_id, row.taken_at) in pairs}


def zone_forecasts(
    zones=None, *, today: date | None = None, window_days: int | None = None
) -> list[ZoneForecast]:
    """The forecast of each of ``zones`` (default: the enabled ones, by name)."""
    if zones is None:
        # Never the secrets: the admin pages and /metrics must work (and not decrypt a key
        # per request) even when FIELD_ENCRYPTION_KEYS do not fit.
        zones = zone_list(enabled=True).order_by("name")
    zones = list(zones)
    today = today or timezone.localdate()
    window = window_days or settings.OPVIDEO_CAPACITY_WINDOW_DAYS
    first = today - timedelta(days=window)
    ids = [zone.pk for zone in zones]
    days: dict[int, list[ZoneDay]] = defaultdict(list)
    for row in ZoneDay.objects.filter(zone_id__in=ids, day__gte=first, day__lt=today):
        days[row.zone_id].append(row)
    snapshots = latest_snapshots(ids)
    forecasts = []
    for zone in zones:
        rows = days.get(zone.pk, [])
        if rows:
            # Days without a row are days nothing arrived, once the zone has any row in
            # the window: the mean is over the whole window from the first recorded day.
            span = (today - min(row.day for row in rows)).days
            ingest = sum(row.received_bytes for row in rows) / span
            purge = sum(row.purged_bytes for row in rows) / span
        else:
            ingest = purge = None
        forecasts.append(
            ZoneForecast(
                zone=zone,
                snapshot=snapshots.get(zone.pk),
                ingest_per_day=ingest,
                purge_per_day=purge,
                window_days=window,
            )
        )
    return forecasts


def request_zone_forecasts(request) -> list[ZoneForecast]:
    """The enabled zones' forecasts, read once per request: the admin's warning (every page)
    and the dashboard (the home page) show the same ones."""
    held = getattr(request, "_opvideo_zone_forecasts", None)
    if held is None:
        held = request._opvideo_zone_forecasts = zone_forecasts()
    return held


def snapshot_stale_after() -> timedelta:
    """How old the last snapshot may be before the admin is told: two intervals."""
    return timedelta(minutes=2 * max(settings.OPVIDEO_CAPACITY_INTERVAL_MINUTES, 1))


def snapshot_age(snapshot: StorageSnapshot | None, *, now: datetime | None = None):
    """How long ago the snapshot was taken (None: never)."""
    if snapshot is None:
        return None
    return (now or timezone.now()) - snapshot.taken_at
