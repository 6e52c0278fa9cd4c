"""What the zone's worker records every hour on its storage server, as the zone's restricted
database user: a snapshot of PATH_DST (the file system's size, use and room, the recordings'
count, bytes and oldest date) and the roll-up of the zone's last days into ``ZoneDay``.

The disk is looked at where it is mounted, so this runs only on the zone's storage server
(queue ``zone.<ZONE>``). The roll-up reads VIDEO by the (ZONE_ID, REGISTERED_AT) index, one
local day at a time as a UTC range (no CONVERT_TZ: the index serves a plain range), and the
zone's purge runs; it writes the days whole (INSERT … ON DUPLICATE KEY UPDATE), so running it
twice, or two runs at once, leaves the same rows.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from zones.models import Zone

from ..models import PurgeRun, StorageSnapshot, Video, ZoneDay
from ..paths import stored_files
from ..retention import PurgeError, zone_storage_root
from ..sql import insert_sql

logger = logging.getLogger(__name__)

# What the snapshot reads of VIDEO (of the zone: what the purge reads, retention.purge_zones);
# storage.grants grants exactly these.
CAPACITY_VIDEO_READ_FIELDS = ("id", "zone", "registered_at", "size")
CAPACITY_DAY_PRIVILEGES = ("SELECT", "INSERT", "UPDATE")
CAPACITY_SNAPSHOT_PRIVILEGES = ("INSERT",)
# The hourly run rolls up at least yesterday (finished after midnight) and today, and back
# to the zone's last rolled-up day when the worker was down longer (at most the forecast's
# window): a day missed would otherwise read as a day nothing arrived.
DEFAULT_DAYS = 2
_DAY_FIELDS = ("received", "received_bytes", "purged", "purged_bytes", "updated_at")


class CapacityError(Exception):
    """The snapshot could not be taken (PATH_DST missing or a link); the message says why."""


@dataclass
class FilesSummary:
    count: int = 0
    bytes: int = 0
    oldest_mtime: float | None = None


@dataclass
class CapacitySummary:
    zone: str
    snapshot: StorageSnapshot
    days: list[ZoneDay] = field(default_factory=list)

    def as_dict(self) -> dict:
        s = self.snapshot
        return {
            "zone": self.zone,
            "taken_at": s.taken_at.isoformat(),
            "total_bytes": s.total_bytes,
            "used_bytes": s.used_bytes,
            "free_bytes": s.free_bytes,
            "file_count": s.file_count,
            "file_bytes": s.file_bytes,
            "oldest_recording": s.oldest_recording.isoformat() if s.oldest_recording else None,
            "days": [
                {
                    "day": d.day.isoformat(),
                    "received": d.received,
                    "received_bytes": d.received_bytes,
                    "purged": d.purged,
                    "purged_bytes": d.purged_bytes,
                }
                for d in self.days
            ],
        }

    def lines(self) -> list[str]:
        s = self.snapshot
        oldest = s.oldest_recording.isoformat() if s.oldest_recording else "none"
        out = [
            f"zone {self.zone}: disk {s.total_bytes} bytes, used {s.used_bytes}, "
            f"free {s.free_bytes}; recordings {s.file_count} files, {s.file_bytes} bytes, "
            f"oldest {oldest}"
        ]
        for d in self.days:
            out.append(
                f"{d.day.isoformat()}: received {d.received} ({d.received_bytes} bytes), "
                f"purged {d.purged} ({d.purged_bytes} bytes)"
            )
        return out


def zone_capacity_record(
    *, zone: Zone, now: datetime | None = None, days: int | None = None
) -> CapacitySummary:
    """Take the zone's snapshot and roll up its last ``days`` local days (today included;
    None: those since the last roll-up, ``catch_up_days``)."""
    now = now or timezone.now()
    snapshot = storage_snapshot_take(zone=zone, now=now)
    if days is None:
        days = catch_up_days(zone=zone, now=now)
    mean = snapshot.file_bytes / snapshot.file_count if snapshot.file_count else 0.0
    rolled = zone_days_roll_up(zone=zone, now=now, days=days, mean_size=mean)
    return CapacitySummary(zone=zone.name, snapshot=snapshot, days=rolled)


def storage_snapshot_take(*, zone: Zone, now: datetime) -> StorageSnapshot:
    """Look at the zone's PATH_DST and record what is there (one INSERT)."""
    try:
        # The purge's own check: PATH_DST must be here, and no link on its way.
        root = zone_storage_root(zone=zone)
    except PurgeError as exc:
        raise CapacityError(str(exc).replace("nothing was changed", "no snapshot taken")) from None
    usage = shutil.disk_usage(root)
    files = files_summarize(root=root)
    oldest = None
    if files.oldest_mtime is not None:
        tz = timezone.get_default_timezone()
        oldest = datetime.fromtimestamp(files.oldest_mtime, tz=tz).date()
    snapshot = StorageSnapshot(
        zone=zone,
        taken_at=now,
        total_bytes=usage.total,
        used_bytes=usage.used,
        # What an unprivileged writer (rsync as the storage user) can still use: the
        # root-reserved blocks are not room for recordings.
        free_bytes=usage.free,
        file_count=files.count,
        file_bytes=files.bytes,
        oldest_recording=oldest,
    )
    _insert(snapshot)
    return snapshot


def _insert(snapshot: StorageSnapshot) -> None:
    """One plain INSERT: the ORM's ``save()`` asks MariaDB for the new id with
    ``INSERT … RETURNING``, which needs SELECT on the table's columns, and the worker may
    only add snapshots, never read them. Nobody here needs the id."""
    fields = [f for f in StorageSnapshot._meta.concrete_fields if not f.primary_key]
    sql = insert_sql(connection=connection, model=StorageSnapshot, fields=fields, rows=1)
    params = [f.get_db_prep_save(f.pre_save(snapshot, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _not_counted(path: str, error: OSError) -> None:
    """A file or directory the purge deleted meanwhile is simply not counted; one that
    cannot be read (a directory someone made by hand, not the storage user's) is left out
    and said: the rest of the disk still counts."""
    if not isinstance(error, FileNotFoundError):
        logger.warning("capacity snapshot: %s not counted: %s", path, error)


def files_summarize(*, root: str) -> FilesSummary:
    """The count, bytes (their sizes, as VIDEO.SIZE counts them) and oldest modification
    time of the regular files under ``root``."""
    summary = FilesSummary()
    for _name, st in stored_files(root, on_error=_not_counted):
        summary.count += 1
        summary.bytes += st.st_size
        if summary.oldest_mtime is None or st.st_mtime < summary.oldest_mtime:
            summary.oldest_mtime = st.st_mtime
    return summary


def local_day_range(day: date) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of ``day`` as aware datetimes (TIME_ZONE):
    compared with REGISTERED_AT (UTC) as a plain range."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def catch_up_days(*, zone: Zone, now: datetime) -> int:
    """How many days the hourly run rolls up: from the zone's last rolled-up day (it may have
    been rolled up before it ended) to today, at least ``DEFAULT_DAYS``, at most the
    forecast's window and today; the whole window the first time."""
    today = timezone.localdate(now, timezone=timezone.get_default_timezone())
    most = settings.OPVIDEO_CAPACITY_WINDOW_DAYS + 1
    last = ZoneDay.objects.filter(zone_id=zone.pk).aggregate(last=Max("day"))["last"]
    if last is None:
        return most
    return min(max((today - last).days + 1, DEFAULT_DAYS), most)


def zone_days_roll_up(
    *, zone: Zone, now: datetime, days: int = DEFAULT_DAYS, mean_size: float = 0.0
) -> list[ZoneDay]:
    """The zone's figures for each of its last ``days`` local days (today included), written
    over whatever the rows said: recomputed from VIDEO and the purge runs each time.
    ``mean_size``: the bytes counted for a recording registered without its size (an old
    client's row) on a day none had one; otherwise that day's own mean."""
    if days < 1:
        raise ValueError("days must be at least 1")
    today = timezone.localdate(now, timezone=timezone.get_default_timezone())
    rows = [
        _day_figures(zone=zone, day=today - timedelta(days=back), now=now, mean_size=mean_size)
        for back in range(days - 1, -1, -1)
    ]
    options = {"update_conflicts": True, "update_fields": list(_DAY_FIELDS)}
    if connection.features.supports_update_conflicts_with_target:
        options["unique_fields"] = ["zone", "day"]  # MySQL/MariaDB name no target
    with transaction.atomic():
        ZoneDay.objects.bulk_create(rows, **options)
    return rows


def _day_figures(*, zone: Zone, day: date, now: datetime, mean_size: float) -> ZoneDay:
    start, end = local_day_range(day)
    received = Video.objects.filter(
        zone_id=zone.pk, registered_at__gte=start, registered_at__lt=end
    ).aggregate(n=Count("id"), sized=Count("size"), size=Sum("size"))
    count, sized, size = received["n"] or 0, received["sized"] or 0, received["size"] or 0
    if count > sized:
        # Rows without SIZE (old clients during a roll-out) still took room: counted at
        # the day's mean, or the disk's, rather than as nothing (which would make the disk
        # look as if it never fills).
        size += round((count - sized) * (size / sized if sized else mean_size))
    purged = PurgeRun.objects.filter(
        zone_id=zone.pk, started_at__gte=start, started_at__lt=end
    ).aggregate(n=Sum("deleted"), size=Sum("bytes_freed"))
    return ZoneDay(
        zone=zone,
        day=day,
        received=count,
        received_bytes=size,
        purged=purged["n"] or 0,
        purged_bytes=purged["size"] or 0,
        updated_at=now,
    )
